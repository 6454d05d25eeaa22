import { WEEKDAYS, type TimeWindow, type Weekday } from "./types";

export const DAY_MINUTES = 24 * 60;
export const WEEK_MINUTES = 7 * DAY_MINUTES;

export function hhmmMinutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/**
 * A window's open stretches as `[start, end)` minutes from Sunday 00:00 local time, one per day it starts
 * on; a stretch that starts on Saturday may end past the week's end (it wraps to Sunday morning).
 */
export function windowSpans(window: TimeWindow): [number, number][] {
  const start = hhmmMinutes(window.start);
  const end = hhmmMinutes(window.end);
  const length = end > start ? end - start : end + DAY_MINUTES - start;
  return daysOf(window.days).map((day) => {
    const from = WEEKDAYS.indexOf(day) * DAY_MINUTES + start;
    return [from, from + length];
  });
}

export function daysOf(days: readonly Weekday[] | undefined): readonly Weekday[] {
  return days ?? WEEKDAYS;
}

/** Whether two stretches of a repeating week share a minute. */
export function spansOverlap([a0, a1]: [number, number], [b0, b1]: [number, number]): boolean {
  return [-WEEK_MINUTES, 0, WEEK_MINUTES].some((shift) => a0 < b1 + shift && b0 + shift < a1);
}

const DAY_FORM = `expected a weekday (${WEEKDAYS.join(", ")}) or a range such as mon-fri`;

/**
 * `sat`, `mon-fri`, `fri-mon` (across the weekend), or several of them separated by commas or given as a
 * list; the days in week order, each once. A problem's text when a part is not a day or a range of days.
 */
export function parseDays(value: string | readonly string[]): Weekday[] | string {
  const parts = (typeof value === "string" ? [value] : value).flatMap((part) => part.split(","));
  const chosen = new Set<number>();
  for (const raw of parts) {
    const part = raw.trim().toLowerCase();
    const [first, last, ...rest] = part.split("-");
    const from = WEEKDAYS.indexOf(first as Weekday);
    const to = last === undefined ? from : WEEKDAYS.indexOf(last as Weekday);
    if (from < 0 || to < 0 || rest.length > 0) {
      // A string is quoted by the problem itself; in a list, the part at fault is named here.
      return typeof value === "string" ? DAY_FORM : `${DAY_FORM}, got "${raw.trim()}"`;
    }
    for (let day = from; ; day = (day + 1) % 7) {
      chosen.add(day);
      if (day === to) break;
    }
  }
  if (chosen.size === 0) return "list at least one day";
  return [...chosen].sort((a, b) => a - b).map((index) => WEEKDAYS[index]!);
}

/** `mon-fri`, `sat,sun`, `every day`: days in the short form an operator would write. */
export function daysLabel(days: readonly Weekday[] | undefined): string {
  if (days === undefined || days.length === 7) return "every day";
  const indexes = days.map((day) => WEEKDAYS.indexOf(day));
  // Runs of consecutive days; Monday first, so that Sunday ends a week rather than starting one.
  const order = [1, 2, 3, 4, 5, 6, 0].filter((index) => indexes.includes(index));
  const runs: number[][] = [];
  for (const index of order) {
    const run = runs.at(-1);
    if (run !== undefined && (run.at(-1)! + 1) % 7 === index) run.push(index);
    else runs.push([index]);
  }
  return runs
    .map((run) =>
      run.length > 2
        ? `${WEEKDAYS[run[0]!]}-${WEEKDAYS[run.at(-1)!]}`
        : run.map((i) => WEEKDAYS[i]).join(","),
    )
    .join(",");
}
