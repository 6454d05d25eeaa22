import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LinkSchedule, PeriodicSchedule, TimeWindow } from "@tandem/config";
import { longestClosedMs, nextChange, nextTick, scheduleState } from "@tandem/replication";

const at = (iso: string) => new Date(iso);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const windows = (timeZone: string, ...list: TimeWindow[]): LinkSchedule => ({
  kind: "windows",
  timeZone,
  windows: list,
});
const periodic = (fields: Omit<PeriodicSchedule, "kind">): PeriodicSchedule => ({
  kind: "periodic",
  ...fields,
});

describe("windows on days of the week", () => {
  // 2025-01-03 is a Friday.
  const fridayNight = windows("UTC", { start: "22:00", end: "06:00", days: ["fri"] });

  it("opens a window on the days it starts on, and runs it into the next morning", () => {
    expect(scheduleState(fridayNight, at("2025-01-03T21:59:00Z"))).toBe("closed");
    expect(scheduleState(fridayNight, at("2025-01-03T22:00:00Z"))).toBe("open");
    expect(scheduleState(fridayNight, at("2025-01-04T05:59:00Z"))).toBe("open"); // Saturday morning
    expect(scheduleState(fridayNight, at("2025-01-04T06:00:00Z"))).toBe("closed");
    expect(scheduleState(fridayNight, at("2025-01-04T22:30:00Z"))).toBe("closed"); // Saturday night
    expect(scheduleState(fridayNight, at("2025-01-02T23:00:00Z"))).toBe("closed"); // Thursday night
    expect(scheduleState(fridayNight, at("2025-01-03T03:00:00Z"))).toBe("closed"); // Thursday's morning after
  });

  it("keeps a weekend open from Saturday 00:00 to Monday 00:00 in the link's time zone", () => {
    const weekend = windows("America/New_York", { start: "00:00", end: "24:00", days: ["sat", "sun"] });
    expect(scheduleState(weekend, at("2025-01-04T04:59:00Z"))).toBe("closed"); // Fri 23:59 EST
    expect(scheduleState(weekend, at("2025-01-04T05:00:00Z"))).toBe("open"); // Sat 00:00 EST
    expect(scheduleState(weekend, at("2025-01-06T04:59:00Z"))).toBe("open"); // Sun 23:59 EST
    expect(scheduleState(weekend, at("2025-01-06T05:00:00Z"))).toBe("closed"); // Mon 00:00 EST
    expect(nextChange(weekend, at("2025-01-01T12:00:00Z"))).toEqual(at("2025-01-04T05:00:00Z"));
    expect(nextChange(weekend, at("2025-01-04T05:00:00Z"))).toEqual(at("2025-01-06T05:00:00Z"));
  });

  it("follows the weekday of the local clock, not of UTC", () => {
    // Monday 00:30 in Tokyo is Sunday 15:30 UTC.
    const mondays = windows("Asia/Tokyo", { start: "00:00", end: "01:00", days: ["mon"] });
    expect(scheduleState(mondays, at("2025-01-05T15:30:00Z"))).toBe("open");
    expect(scheduleState(mondays, at("2025-01-06T00:30:00Z"))).toBe("closed");
  });
});

describe("periodic schedules", () => {
  it("stay closed between ticks and open at the next tick", () => {
    const hourly = periodic({ timeZone: "UTC", everyMs: HOUR });
    expect(scheduleState(hourly, at("2025-01-01T10:00:00Z"))).toBe("closed");
    expect(nextChange(hourly, at("2025-01-01T10:20:00Z"))).toEqual(at("2025-01-01T11:00:00Z"));
    expect(scheduleState(hourly, at("2025-01-01T10:20:00Z"), {})).toBe("open");
  });

  it("tick every period from each local midnight", () => {
    const hourly = periodic({ timeZone: "UTC", everyMs: HOUR });
    expect(nextTick(hourly, at("2025-01-01T10:20:00Z"))).toEqual(at("2025-01-01T11:00:00Z"));
    expect(nextTick(hourly, at("2025-01-01T11:00:00Z"))).toEqual(at("2025-01-01T12:00:00Z"));
    expect(nextTick(hourly, at("2025-01-01T23:59:59Z"))).toEqual(at("2025-01-02T00:00:00Z"));
    const sevenHours = periodic({ timeZone: "Asia/Kolkata", everyMs: 7 * HOUR });
    // 21:00 IST is the day's last tick; the next is local midnight (18:30 UTC), not 04:00.
    expect(nextTick(sevenHours, at("2025-01-01T15:30:00Z"))).toEqual(at("2025-01-01T18:30:00Z"));
    expect(nextTick(sevenHours, at("2025-01-01T18:30:00Z"))).toEqual(at("2025-01-02T01:30:00Z"));
  });

  it("tick at times of day on the days named, in the link's time zone", () => {
    const sundays = periodic({ timeZone: "Europe/Paris", at: ["02:00"], days: ["sun"] });
    // Wednesday 2025-01-01 -> Sunday 2025-01-05 02:00 CET.
    expect(nextTick(sundays, at("2025-01-01T12:00:00Z"))).toEqual(at("2025-01-05T01:00:00Z"));
    expect(nextTick(sundays, at("2025-01-05T01:00:00Z"))).toEqual(at("2025-01-12T01:00:00Z"));
    const twiceDaily = periodic({ timeZone: "UTC", at: ["02:00", "14:00"] });
    expect(nextTick(twiceDaily, at("2025-01-01T02:00:00Z"))).toEqual(at("2025-01-01T14:00:00Z"));
    expect(nextTick(twiceDaily, at("2025-01-01T14:00:30Z"))).toEqual(at("2025-01-02T02:00:00Z"));
  });

  it("tick at the change when the tick falls in the hour clocks skip, and once in the hour they repeat", () => {
    const london = periodic({ timeZone: "Europe/London", at: ["01:30"] });
    // 2025-03-30: 01:00 GMT becomes 02:00 BST; 01:30 never shows.
    expect(nextTick(london, at("2025-03-30T00:00:00Z"))).toEqual(at("2025-03-30T01:00:00Z"));
    expect(nextTick(london, at("2025-03-30T01:00:00Z"))).toEqual(at("2025-03-31T00:30:00Z"));
    // 2025-10-26: 02:00 BST becomes 01:00 GMT; 01:30 shows twice, the tick comes at the first.
    expect(nextTick(london, at("2025-10-26T00:00:00Z"))).toEqual(at("2025-10-26T00:30:00Z"));
    expect(nextTick(london, at("2025-10-26T00:30:00Z"))).toEqual(at("2025-10-27T01:30:00Z"));

    const newYork = periodic({ timeZone: "America/New_York", at: ["02:30"] });
    // 2025-03-09: 02:00 EST becomes 03:00 EDT at 07:00 UTC.
    expect(nextTick(newYork, at("2025-03-09T05:00:00Z"))).toEqual(at("2025-03-09T07:00:00Z"));
    expect(nextTick(newYork, at("2025-03-09T07:00:00Z"))).toEqual(at("2025-03-10T06:30:00Z"));
    const newYorkHourly = periodic({ timeZone: "America/New_York", everyMs: HOUR });
    // 2025-11-02: 02:00 EDT becomes 01:00 EST at 06:00 UTC; the repeated 01:xx hour has no tick of its own.
    expect(nextTick(newYorkHourly, at("2025-11-02T05:00:00Z"))).toEqual(at("2025-11-02T07:00:00Z"));
  });

  it("always give a later tick, each an hour apart for an hourly schedule outside DST changes", () => {
    const hourly = periodic({ timeZone: "Europe/London", everyMs: HOUR });
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2025, 11, 31) }), (ms) => {
        const tick = nextTick(hourly, new Date(ms))!;
        expect(tick.getTime()).toBeGreaterThan(ms);
        expect(tick.getTime() - ms).toBeLessThanOrEqual(HOUR);
        expect(tick.getTime() % HOUR).toBe(0);
      }),
    );
  });
});

describe("longest closed stretch with weekdays and periods", () => {
  it("measures the week between windows", () => {
    const weekend = windows("UTC", { start: "00:00", end: "24:00", days: ["sat", "sun"] });
    expect(longestClosedMs(weekend)).toBe(5 * DAY);
    const weeknights = windows("UTC", {
      start: "22:00",
      end: "06:00",
      days: ["mon", "tue", "wed", "thu", "fri"],
    });
    // Saturday 06:00 to Monday 22:00.
    expect(longestClosedMs(weeknights)).toBe(64 * HOUR);
  });

  it("is the longest time between ticks", () => {
    expect(longestClosedMs(periodic({ timeZone: "UTC", everyMs: HOUR }))).toBe(HOUR);
    expect(longestClosedMs(periodic({ timeZone: "UTC", everyMs: 7 * HOUR }))).toBe(7 * HOUR);
    expect(longestClosedMs(periodic({ timeZone: "UTC", at: ["02:00"], days: ["sun"] }))).toBe(7 * DAY);
    expect(longestClosedMs(periodic({ timeZone: "UTC", at: ["02:00", "14:00"] }))).toBe(12 * HOUR);
  });
});
