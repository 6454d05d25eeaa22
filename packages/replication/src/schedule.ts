import ms from "ms";
import {
  daysLabel,
  DAY_MINUTES,
  hhmmMinutes,
  WEEK_MINUTES,
  WEEKDAYS,
  streamSchedule,
  windowSpans,
  type BandwidthCap,
  type LinkConfig,
  type LinkSchedule,
  type PeriodicSchedule,
  type TimeWindow,
  type Weekday,
} from "@tandem/config";
import { RelayPlan } from "./relay-plan";

export type ScheduleState = "open" | "closed";

/**
 * An operator's catch-up request in force. It opens the link whatever its schedule; the bridge clears it
 * once the link has caught up, and `until`, when given, bounds it.
 */
export interface ManualRequest {
  until?: Date;
}

const MINUTE_MS = 60_000;
const DAY_MS = DAY_MINUTES * MINUTE_MS;
/** Windows and ticks repeat weekly; a day more covers a daylight-saving shift that skips one. */
const HORIZON_MS = 8 * DAY_MS;

export function scheduleState(
  schedule: LinkSchedule,
  now: Date,
  manualRequest?: ManualRequest,
): ScheduleState {
  if (requestActive(manualRequest, now.getTime())) return "open";
  return baseOpen(schedule, now.getTime()) ? "open" : "closed";
}

/**
 * When `scheduleState` will next change, for logs, metrics and `tandem status`; undefined if it never will
 * on its own (continuous, manual, windows covering the whole week, a catch-up that lasts until caught up).
 * A periodic schedule opens at its next tick.
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
    case "periodic":
      return false;
    case "windows":
      return inWindows(schedule.windows, localTime(schedule.timeZone, t));
  }
}

function nextBaseChange(schedule: LinkSchedule, from: number): Date | undefined {
  if (schedule.kind === "periodic") return nextTick(schedule, new Date(from));
  if (schedule.kind !== "windows") return undefined;
  const { timeZone, windows } = schedule;
  const boundaries = windows.flatMap((w) => [hhmmMinutes(w.start), hhmmMinutes(w.end)]);
  const open = (t: number) => inWindows(windows, localTime(timeZone, t));
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

/**
 * `start <= now < end` on a day the window starts on; a window whose end is before its start runs across
 * midnight, into the next day.
 */
function inWindows(windows: readonly TimeWindow[], here: LocalTime): boolean {
  const yesterday = WEEKDAYS[(here.weekday + 6) % 7]!;
  const today = WEEKDAYS[here.weekday]!;
  return windows.some((w) => {
    const start = hhmmMinutes(w.start);
    const end = hhmmMinutes(w.end);
    const on = (day: Weekday) => w.days === undefined || w.days.includes(day);
    return start < end
      ? on(today) && here.minuteOfDay >= start && here.minuteOfDay < end
      : (on(today) && here.minuteOfDay >= start) || (on(yesterday) && here.minuteOfDay < end);
  });
}

/**
 * The first tick of a periodic schedule after `after`. Ticks are local wall-clock times: a tick in the
 * hour skipped when clocks go forward comes at the change; when they go back, the repeated hour ticks once.
 */
export function nextTick(schedule: PeriodicSchedule, after: Date): Date | undefined {
  const from = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS;
  const here = localTime(schedule.timeZone, from);
  const wallTick = nextWallTick(schedule, here.wall);
  if (wallTick === undefined) return undefined;
  // The instant whose local clock first reads the tick: the offset now is a guess, then walk minutes.
  let t = wallTick - here.offsetMinutes * MINUTE_MS;
  if (localTime(schedule.timeZone, t).wall < wallTick) {
    while (localTime(schedule.timeZone, t).wall < wallTick) t += MINUTE_MS;
  } else {
    while (t - MINUTE_MS > from && localTime(schedule.timeZone, t - MINUTE_MS).wall >= wallTick)
      t -= MINUTE_MS;
  }
  return new Date(Math.max(t, from + MINUTE_MS));
}

/** The first tick after a local wall-clock time (both as if local time were UTC). */
function nextWallTick(schedule: PeriodicSchedule, wall: number): number | undefined {
  const midnight = Math.floor(wall / DAY_MS) * DAY_MS;
  if (schedule.everyMs !== undefined) {
    const tick = midnight + (Math.floor((wall - midnight) / schedule.everyMs) + 1) * schedule.everyMs;
    return tick < midnight + DAY_MS ? tick : midnight + DAY_MS;
  }
  const times = (schedule.at ?? []).map((at) => hhmmMinutes(at) * MINUTE_MS);
  for (let day = midnight; day <= midnight + 7 * DAY_MS; day += DAY_MS) {
    const weekday = WEEKDAYS[new Date(day).getUTCDay()]!;
    if (schedule.days !== undefined && !schedule.days.includes(weekday)) continue;
    const tick = times.map((time) => day + time).find((candidate) => candidate > wall);
    if (tick !== undefined) return tick;
  }
  return undefined;
}

interface LocalTime {
  minuteOfDay: number;
  /** 0 for Sunday, as `WEEKDAYS`. */
  weekday: number;
  offsetMinutes: number;
  /** The local wall-clock time, as the UTC instant that reads the same. */
  wall: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock time in a zone, from Intl (which knows the zone's daylight-saving rules). */
function localTime(timeZone: string, t: number): LocalTime {
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
  return {
    minuteOfDay: hour * 60 + minute,
    weekday: new Date(wall).getUTCDay(),
    offsetMinutes: Math.round((wall - utcMinute) / MINUTE_MS),
    wall,
  };
}

/**
 * The longest time the schedule alone keeps the link closed: 0 for continuous, for ever for manual, the
 * longest stretch of the week between windows, or between ticks (in local time; a daylight-saving change
 * moves it by an hour; a periodic catch-up's own length is not known beforehand, so it counts as nothing).
 * Records a source keeps for less than this may be deleted before the link reads them.
 */
export function longestClosedMs(schedule: LinkSchedule): number {
  switch (schedule.kind) {
    case "continuous":
      return 0;
    case "manual":
      return Number.POSITIVE_INFINITY;
    case "windows":
      return longestGap(schedule.windows.flatMap(windowSpans)) * MINUTE_MS;
    case "periodic":
      return longestGap(tickMinutes(schedule).map((m): [number, number] => [m, m])) * MINUTE_MS;
  }
}

/** A periodic schedule's ticks, as minutes from Sunday 00:00 local time. */
function tickMinutes(schedule: PeriodicSchedule): number[] {
  const everyMinutes = schedule.everyMs === undefined ? undefined : schedule.everyMs / MINUTE_MS;
  const ofDay =
    everyMinutes === undefined
      ? (schedule.at ?? []).map(hhmmMinutes)
      : Array.from({ length: Math.ceil(DAY_MINUTES / everyMinutes) }, (_, i) => Math.floor(i * everyMinutes));
  return WEEKDAYS.flatMap((day, index) =>
    schedule.days === undefined || schedule.days.includes(day)
      ? ofDay.map((minute) => index * DAY_MINUTES + minute)
      : [],
  );
}

/** The longest stretch of a repeating week that no span covers, in minutes. */
function longestGap(spans: [number, number][]): number {
  if (spans.length === 0) return Number.POSITIVE_INFINITY;
  // Two weeks on a line, so that a stretch across the week's end stays whole.
  const line = spans
    .flatMap(([start, end]) => [
      [start, end],
      [start + WEEK_MINUTES, end + WEEK_MINUTES],
    ])
    .sort((a, b) => a[0]! - b[0]!);
  let longest = 0;
  let coveredUntil = line[0]![1]!;
  for (const [start, end] of line.slice(1)) {
    longest = Math.max(longest, start! - coveredUntil);
    coveredUntil = Math.max(coveredUntil, end!);
  }
  return longest;
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

/** A schedule as `tandem status` shows it: `22:00-06:00 mon-fri Europe/London`, `every 1h UTC`. */
export function scheduleLabel(schedule: LinkSchedule): string {
  switch (schedule.kind) {
    case "continuous":
    case "manual":
      return schedule.kind;
    case "windows":
      return `${schedule.windows
        .map((w) =>
          w.days === undefined ? `${w.start}-${w.end}` : `${w.start}-${w.end} ${daysLabel(w.days)}`,
        )
        .join(", ")} ${schedule.timeZone}`;
    case "periodic": {
      const ticks =
        schedule.everyMs !== undefined
          ? `every ${ms(schedule.everyMs)}`
          : `at ${(schedule.at ?? []).join(",")}${schedule.days === undefined ? "" : ` ${daysLabel(schedule.days)}`}`;
      return `periodic ${ticks} ${schedule.timeZone}`;
    }
  }
}

/**
 * The origins whose audio a site's materializer holds back now. Audio copies follow the calls stream's
 * schedule of the link that brings an origin's calls to the site (the last hop of its path) while that
 * schedule is a closed time window: a line kept free by day is not filled by the audio of calls that came
 * at night. Catch-ups (manual, periodic) are the bridge's: the audio of the calls they bring is copied
 * at once.
 */
export function audioHeldOrigins(links: readonly LinkConfig[], site: string, now: Date): string[] {
  const plan = new RelayPlan(links);
  const origins = [...new Set(links.flatMap((link) => [link.from, link.to]))].filter((id) => id !== site);
  return origins
    .filter((origin) => {
      const link = callsLinkInto(links, plan, origin, site);
      if (link === undefined) return false;
      const schedule = streamSchedule(link, "calls");
      return schedule.kind === "windows" && scheduleState(schedule, now) === "closed";
    })
    .sort();
}

/** The link that brings an origin's calls to a site: the last hop of the origin's path there. */
export function callsLinkInto(
  links: readonly LinkConfig[],
  plan: RelayPlan,
  origin: string,
  site: string,
): LinkConfig | undefined {
  const lastHop = plan.pathTo(origin, site, "calls")?.at(-2);
  return links.find((l) => l.from === lastHop && l.to === site);
}

/** A link's cap now, in bytes per second for all its instances together; undefined when uncapped. */
export function capAt(cap: BandwidthCap | undefined, now: Date): number | undefined {
  if (cap === undefined) return undefined;
  const here = localTime(cap.timeZone, now.getTime());
  const window = cap.windows.find((w) => inWindows([w], here));
  return window?.bytesPerSecond ?? cap.bytesPerSecond;
}

/** `10mbit 08:00-18:00 mon-fri, 100mbit otherwise (Europe/London)`, as `tandem status` shows a cap. */
export function capLabel(cap: BandwidthCap): string {
  const mbit = (bytesPerSecond: number) => `${Number(((bytesPerSecond * 8) / 1e6).toPrecision(3))}mbit`;
  const windows = cap.windows.map(
    (w) =>
      `${mbit(w.bytesPerSecond)} ${w.start}-${w.end}${w.days === undefined ? "" : ` ${daysLabel(w.days)}`}`,
  );
  const outside = cap.bytesPerSecond === undefined ? "none" : mbit(cap.bytesPerSecond);
  if (windows.length === 0) return outside;
  return `${windows.join(", ")}, ${outside} otherwise (${cap.timeZone})`;
}
