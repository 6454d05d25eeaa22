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
