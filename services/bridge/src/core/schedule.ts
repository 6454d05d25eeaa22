import ms from "ms";
import type { LinkSchedule, TimeWindow } from "@tandem/config";

export type ScheduleState = "open" | "closed";

/**
 * An operator's catch-up request in force. It opens the link whatever its schedule; the bridge clears it
 * once the link has caught up, and `until`, when given, bounds it.
 */
export interface ManualRequest {
  until?: Date;
}

const MINUTE_MS = 60_000;
const DAY_MINUTES = 24 * 60;
/** Windows repeat daily; a week covers any daylight-saving shift that skips a window for a day. */
const HORIZON_MS = 8 * DAY_MINUTES * MINUTE_MS;

export function scheduleState(
  schedule: LinkSchedule,
  now: Date,
  manualRequest?: ManualRequest,
): ScheduleState {
  if (requestActive(manualRequest, now.getTime())) return "open";
  return baseOpen(schedule, now.getTime()) ? "open" : "closed";
}

/**
 * When `scheduleState` will next change, for logs and metrics; undefined if it never will on its own
 * (continuous, manual without a bounded request, windows covering the whole day).
 */
export function nextChange(
  schedule: LinkSchedule,
  now: Date,
  manualRequest?: ManualRequest,
): Date | undefined {
  const t = now.getTime();
  if (requestActive(manualRequest, t)) {
    const until = manualRequest?.until?.getTime();
    if (until === undefined) return undefined;
    return baseOpen(schedule, until) ? nextBaseChange(schedule, until) : new Date(until);
  }
  return nextBaseChange(schedule, t);
}

function requestActive(request: ManualRequest | undefined, t: number): boolean {
  return request !== undefined && (request.until === undefined || t < request.until.getTime());
}

function baseOpen(schedule: LinkSchedule, t: number): boolean {
  switch (schedule.kind) {
    case "continuous":
      return true;
    case "manual":
      return false;
    case "windows":
      return inWindows(schedule.windows, localTime(schedule.timeZone, t).minuteOfDay);
  }
}

function nextBaseChange(schedule: LinkSchedule, from: number): Date | undefined {
  if (schedule.kind !== "windows") return undefined;
  const { timeZone, windows } = schedule;
  const boundaries = windows.flatMap((w) => [toMinutes(w.start), toMinutes(w.end)]);
  const open = (t: number) => inWindows(windows, localTime(timeZone, t).minuteOfDay);
  const initial = open(from);

  // Offsets are whole minutes, so the state can only change on a minute boundary. Jump from boundary to
  // boundary of the local clock; across a daylight-saving shift the jump is unreliable, so walk minutes.
  let t = Math.floor(from / MINUTE_MS) * MINUTE_MS;
  while (t - from < HORIZON_MS) {
    const here = localTime(timeZone, t);
    const step = Math.min(
      ...boundaries.map((b) => (b - here.minuteOfDay + DAY_MINUTES) % DAY_MINUTES || DAY_MINUTES),
    );
    const next = t + step * MINUTE_MS;
    if (localTime(timeZone, next).offsetMinutes === here.offsetMinutes) {
      if (open(next) !== initial) return new Date(next);
    } else {
      for (let m = t + MINUTE_MS; m <= next; m += MINUTE_MS) {
        if (open(m) !== initial) return new Date(m);
      }
    }
    t = next;
  }
  return undefined;
}

/** `start <= now < end`; a window whose end is before its start runs across midnight. */
function inWindows(windows: readonly TimeWindow[], minuteOfDay: number): boolean {
  return windows.some((w) => {
    const start = toMinutes(w.start);
    const end = toMinutes(w.end);
    return start < end
      ? minuteOfDay >= start && minuteOfDay < end
      : minuteOfDay >= start || minuteOfDay < end;
  });
}

function toMinutes(hhmm: string): number {
  const [hours, minutes] = hhmm.split(":").map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock time in a zone, from Intl (which knows the zone's daylight-saving rules). */
function localTime(timeZone: string, t: number): { minuteOfDay: number; offsetMinutes: number } {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
    formatters.set(timeZone, formatter);
  }
  const part: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const { type, value } of formatter.formatToParts(t)) part[type] = Number(value);
  const hour = part.hour ?? 0;
  const minute = part.minute ?? 0;
  const wall = Date.UTC(part.year ?? 0, (part.month ?? 1) - 1, part.day ?? 1, hour, minute);
  const utcMinute = Math.floor(t / MINUTE_MS) * MINUTE_MS;
  return { minuteOfDay: hour * 60 + minute, offsetMinutes: Math.round((wall - utcMinute) / MINUTE_MS) };
}

/**
 * The longest time the schedule alone keeps the link closed: 0 for continuous, for ever for manual, the
 * longest stretch between windows otherwise (in local time; a daylight-saving change moves it by an hour).
 * Records a source keeps for less than this may be deleted before the link reads them.
 */
export function longestClosedMs(schedule: LinkSchedule): number {
  if (schedule.kind === "continuous") return 0;
  if (schedule.kind === "manual") return Number.POSITIVE_INFINITY;
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  // Windows as [start, end) minutes on a line of two days, so that one across midnight stays whole.
  const open = schedule.windows
    .flatMap((w) => {
      const start = minutes(w.start);
      const end = minutes(w.end) > start ? minutes(w.end) : minutes(w.end) + DAY_MINUTES;
      return [
        [start, end],
        [start + DAY_MINUTES, end + DAY_MINUTES],
      ];
    })
    .sort((a, b) => a[0]! - b[0]!);
  let longest = 0;
  let openUntil = open[0]![1]!;
  for (const [start, end] of open.slice(1)) {
    longest = Math.max(longest, start! - openUntil);
    openUntil = Math.max(openUntil, end!);
  }
  return longest * MINUTE_MS;
}

/**
 * Why a source topic's retention may delete records before the link reads them, or undefined when it
 * cannot: it keeps records for less time than the schedule can leave the link closed.
 */
export function retentionRisk(schedule: LinkSchedule, retentionMs: number): string | undefined {
  const closed = longestClosedMs(schedule);
  if (retentionMs < 0 || retentionMs > closed) return undefined;
  const unread =
    closed === Number.POSITIVE_INFINITY
      ? "until an operator's catch-up"
      : `for up to ${ms(closed, { long: true })}`;
  return `records are kept ${ms(retentionMs, { long: true })}, but the ${schedule.kind} schedule can leave them unread ${unread}`;
}
