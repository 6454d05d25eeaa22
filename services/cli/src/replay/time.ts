/** Instants on the command line (`--from`, `--to`). Pure: `now` is passed in. */
import { UsageError } from "../errors";

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?$/i;
const RELATIVE = /^-(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `2026-11-01T00:00Z` or with an offset (`+01:00`), a date alone (midnight UTC), epoch milliseconds, or a
 * time before now (`-15m`, `-2h`, `-7d`). A date-time without a zone is refused: whose midnight would it be?
 */
export function parseInstant(text: string, flag: string, now: number): number {
  const value = text.trim();
  const relative = RELATIVE.exec(value);
  if (relative !== null) {
    const [, amount, unit] = relative as unknown as [string, string, keyof typeof UNIT_MS];
    return now - Number(amount) * UNIT_MS[unit];
  }
  if (/^\d{10,16}$/.test(value)) return Number(value);
  if (DATE.test(value)) return checked(`${value}T00:00:00Z`, value, flag);
  const match = DATE_TIME.exec(value);
  if (match === null) {
    throw new UsageError(
      `${flag}: "${text}" is not a time (expected e.g. 2026-11-01T00:00Z, 2026-11-01, or -2h)`,
    );
  }
  const [, date, time, zone] = match;
  if (zone === undefined) {
    throw new UsageError(`${flag}: "${text}" has no time zone (add Z for UTC, or an offset such as +01:00)`);
  }
  const offset = zone.toUpperCase() === "Z" ? "Z" : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  return checked(`${date}T${time}${offset}`, value, flag);
}

/** Date.parse rolls some impossible dates over (Feb 30); the calendar date must survive the round trip. */
function checked(iso: string, original: string, flag: string): number {
  const ms = Date.parse(iso);
  const [year, month, day] = iso.slice(0, 10).split("-").map(Number) as [number, number, number];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  const valid =
    !Number.isNaN(ms) &&
    calendar.getUTCFullYear() === year &&
    calendar.getUTCMonth() === month - 1 &&
    calendar.getUTCDate() === day;
  if (!valid) throw new UsageError(`${flag}: "${original}" is not a valid date`);
  return ms;
}

/** The window [from, to) of a replay; an empty or reversed window is a usage error. */
export function parseWindow(
  flags: { from?: string; to?: string },
  now: number,
): { fromMs: number | undefined; toMs: number | undefined } {
  const fromMs = flags.from === undefined ? undefined : parseInstant(flags.from, "--from", now);
  const toMs = flags.to === undefined ? undefined : parseInstant(flags.to, "--to", now);
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) {
    throw new UsageError(
      `--to (${new Date(toMs).toISOString()}) must be after --from (${new Date(fromMs).toISOString()})`,
    );
  }
  return { fromMs, toMs };
}
