import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WEEKDAYS, type LinkSchedule, type TimeWindow, type Weekday } from "@tandem/config";
import { longestClosedMs, nextChange, retentionRisk, scheduleState } from "@tandem/replication";

const at = (iso: string) => new Date(iso);
const windows = (timeZone: string, ...list: [string, string][]): LinkSchedule => ({
  kind: "windows",
  timeZone,
  windows: list.map(([start, end]) => ({ start, end })),
});

describe("scheduleState", () => {
  it("is always open for continuous links and closed for manual ones without a request", () => {
    expect(scheduleState({ kind: "continuous" }, at("2025-01-01T12:00:00Z"))).toBe("open");
    expect(scheduleState({ kind: "manual" }, at("2025-01-01T12:00:00Z"))).toBe("closed");
  });

  it("opens any link while an operator's catch-up request is in force", () => {
    const now = at("2025-01-01T12:00:00Z");
    expect(scheduleState({ kind: "manual" }, now, {})).toBe("open");
    expect(scheduleState({ kind: "manual" }, now, { until: at("2025-01-01T12:00:01Z") })).toBe("open");
    expect(scheduleState({ kind: "manual" }, now, { until: now })).toBe("closed");
    expect(scheduleState(windows("UTC", ["01:00", "02:00"]), now, {})).toBe("open");
  });

  it("includes a window's start and excludes its end", () => {
    const s = windows("UTC", ["09:00", "17:00"]);
    expect(scheduleState(s, at("2025-01-01T08:59:59Z"))).toBe("closed");
    expect(scheduleState(s, at("2025-01-01T09:00:00Z"))).toBe("open");
    expect(scheduleState(s, at("2025-01-01T16:59:59Z"))).toBe("open");
    expect(scheduleState(s, at("2025-01-01T17:00:00Z"))).toBe("closed");
  });

  it("runs a window whose end is before its start across midnight", () => {
    const s = windows("UTC", ["22:00", "06:00"]);
    expect(scheduleState(s, at("2025-01-01T21:59:00Z"))).toBe("closed");
    expect(scheduleState(s, at("2025-01-01T22:00:00Z"))).toBe("open");
    expect(scheduleState(s, at("2025-01-02T00:00:00Z"))).toBe("open");
    expect(scheduleState(s, at("2025-01-02T05:59:00Z"))).toBe("open");
    expect(scheduleState(s, at("2025-01-02T06:00:00Z"))).toBe("closed");
    expect(scheduleState(s, at("2025-01-02T12:00:00Z"))).toBe("closed");
  });

  it("reads the wall clock of the link's time zone, summer time included", () => {
    const s = windows("Europe/London", ["01:00", "05:00"]);
    expect(scheduleState(s, at("2025-07-01T00:30:00Z"))).toBe("open"); // 01:30 BST
    expect(scheduleState(s, at("2025-01-15T00:30:00Z"))).toBe("closed"); // 00:30 GMT
    const india = windows("Asia/Kolkata", ["09:00", "17:00"]);
    expect(scheduleState(india, at("2025-01-01T03:29:00Z"))).toBe("closed");
    expect(scheduleState(india, at("2025-01-01T03:30:00Z"))).toBe("open");
  });

  it("is open when any of several windows is", () => {
    const s = windows("UTC", ["01:00", "02:00"], ["12:30", "13:30"]);
    expect(scheduleState(s, at("2025-01-01T01:30:00Z"))).toBe("open");
    expect(scheduleState(s, at("2025-01-01T13:00:00Z"))).toBe("open");
    expect(scheduleState(s, at("2025-01-01T03:00:00Z"))).toBe("closed");
  });
});

describe("nextChange", () => {
  it("never changes for continuous and for manual without a bounded request", () => {
    expect(nextChange({ kind: "continuous" }, at("2025-01-01T00:00:00Z"))).toBeUndefined();
    expect(nextChange({ kind: "manual" }, at("2025-01-01T00:00:00Z"))).toBeUndefined();
    expect(nextChange({ kind: "manual" }, at("2025-01-01T00:00:00Z"), {})).toBeUndefined();
    expect(
      nextChange(windows("UTC", ["00:00", "12:00"], ["12:00", "00:00"]), at("2025-01-01T05:00:00Z")),
    ).toBeUndefined();
  });

  it("finds the next opening and closing, across midnight", () => {
    const s = windows("UTC", ["22:00", "06:00"]);
    expect(nextChange(s, at("2025-01-01T12:34:56Z"))).toEqual(at("2025-01-01T22:00:00Z"));
    expect(nextChange(s, at("2025-01-01T22:00:00Z"))).toEqual(at("2025-01-02T06:00:00Z"));
    expect(nextChange(s, at("2025-01-02T03:00:30Z"))).toEqual(at("2025-01-02T06:00:00Z"));
  });

  it("passes over the boundary between adjacent windows", () => {
    const s = windows("UTC", ["01:00", "02:00"], ["02:00", "03:00"]);
    expect(nextChange(s, at("2025-01-01T01:15:00Z"))).toEqual(at("2025-01-01T03:00:00Z"));
  });

  it("ends a bounded catch-up request, then follows the windows", () => {
    const s = windows("UTC", ["22:00", "06:00"]);
    expect(
      nextChange({ kind: "manual" }, at("2025-01-01T12:00:00Z"), { until: at("2025-01-01T13:00:00Z") }),
    ).toEqual(at("2025-01-01T13:00:00Z"));
    expect(nextChange(s, at("2025-01-01T12:00:00Z"), { until: at("2025-01-01T13:00:00Z") })).toEqual(
      at("2025-01-01T13:00:00Z"),
    );
    expect(nextChange(s, at("2025-01-01T21:00:00Z"), { until: at("2025-01-01T23:00:00Z") })).toEqual(
      at("2025-01-02T06:00:00Z"),
    );
    expect(nextChange(s, at("2025-01-01T12:00:00Z"), {})).toBeUndefined();
  });

  it("opens at the first local minute after a spring-forward gap", () => {
    // New York, 2025-03-09: 01:59 EST (06:59Z) is followed by 03:00 EDT (07:00Z).
    const s = windows("America/New_York", ["03:00", "04:00"]);
    expect(nextChange(s, at("2025-03-09T06:30:00Z"))).toEqual(at("2025-03-09T07:00:00Z"));
  });

  it("skips a window that falls in the spring-forward gap until the next day", () => {
    const s = windows("America/New_York", ["02:00", "02:30"]);
    expect(nextChange(s, at("2025-03-09T06:00:00Z"))).toEqual(at("2025-03-10T06:00:00Z"));
  });

  it("opens a window twice on the fall-back night, once per repeated hour", () => {
    // New York, 2025-11-02: 01:00-02:00 EDT is 05:00Z-06:00Z, then 01:00-02:00 EST is 06:00Z-07:00Z.
    const s = windows("America/New_York", ["01:30", "02:00"]);
    expect(nextChange(s, at("2025-11-02T05:10:00Z"))).toEqual(at("2025-11-02T05:30:00Z"));
    expect(nextChange(s, at("2025-11-02T05:45:00Z"))).toEqual(at("2025-11-02T06:00:00Z"));
    expect(nextChange(s, at("2025-11-02T06:10:00Z"))).toEqual(at("2025-11-02T06:30:00Z"));
    expect(nextChange(s, at("2025-11-02T06:45:00Z"))).toEqual(at("2025-11-02T07:00:00Z"));
  });

  it("agrees with scheduleState minute by minute", () => {
    const zones = [
      "UTC",
      "Europe/London",
      "America/New_York",
      "Asia/Kolkata",
      "Australia/Lord_Howe",
      "America/Santiago",
    ];
    const hhmm = fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 3 }))
      .map(([h, q]) => `${String(h).padStart(2, "0")}:${String(q * 15).padStart(2, "0")}`);
    const days = fc.option(fc.subarray<Weekday>([...WEEKDAYS], { minLength: 1 }), { nil: undefined });
    const window = fc
      .tuple(hhmm, hhmm, days)
      .filter(([start, end]) => start !== end)
      .map(([start, end, list]): TimeWindow =>
        list === undefined ? { start, end } : { start, end, days: list },
      );
    // Instants in 2024-2026, which include every zone's daylight-saving changes.
    const instant = fc
      .integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2026, 11, 31) })
      .map((ms) => new Date(ms));
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.array(window, { minLength: 1, maxLength: 3 }),
        instant,
        (timeZone, list, now) => {
          const schedule: LinkSchedule = { kind: "windows", timeZone, windows: list };
          const state = scheduleState(schedule, now);
          const change = nextChange(schedule, now);
          // Two days minute by minute; a change days away (windows on some weekdays) is checked at its edge.
          const limit = Math.min(change?.getTime() ?? Infinity, now.getTime() + 2 * 86_400_000);
          for (let t = Math.floor(now.getTime() / 60_000 + 1) * 60_000; t < limit; t += 60_000) {
            expect(scheduleState(schedule, new Date(t))).toBe(state);
          }
          if (change !== undefined) {
            expect(change.getTime()).toBeGreaterThan(now.getTime());
            expect(scheduleState(schedule, change)).not.toBe(state);
            expect(scheduleState(schedule, new Date(change.getTime() - 60_000))).toBe(state);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("longest closed stretch of a schedule", () => {
  const daily = (...spans: Array<[string, string]>) => windows("Europe/London", ...spans);
  const HOUR = 3_600_000;

  it("is nothing for a continuous link and for ever for a manual one", () => {
    expect(longestClosedMs({ kind: "continuous" })).toBe(0);
    expect(longestClosedMs({ kind: "manual" })).toBe(Number.POSITIVE_INFINITY);
  });

  it("is the longest time between windows, across midnight included", () => {
    expect(longestClosedMs(daily(["22:00", "06:00"]))).toBe(16 * HOUR);
    expect(longestClosedMs(daily(["01:00", "02:00"], ["13:00", "15:00"]))).toBe(11 * HOUR);
    expect(longestClosedMs(daily(["00:00", "12:00"], ["11:00", "23:30"]))).toBe(HOUR / 2);
  });
});

describe("retention risk of a schedule", () => {
  const DAY = 86_400_000;

  it("is none when records are kept for ever, or longer than the link can stay closed", () => {
    expect(retentionRisk({ kind: "manual" }, -1)).toBeUndefined();
    expect(retentionRisk({ kind: "continuous" }, DAY)).toBeUndefined();
    expect(retentionRisk(windows("Asia/Tokyo", ["01:00", "05:00"]), 7 * DAY)).toBeUndefined();
  });

  it("names the retention and how long the schedule can leave records unread", () => {
    expect(retentionRisk({ kind: "manual" }, 7 * DAY)).toBe(
      "records are kept 7 days, but the manual schedule can leave them unread until an operator's catch-up",
    );
    expect(retentionRisk(windows("Asia/Tokyo", ["01:00", "05:00"]), 12 * 3_600_000)).toBe(
      "records are kept 12 hours, but the windows schedule can leave them unread for up to 20 hours",
    );
  });
});
