import { describe, expect, it } from "vitest";
import { parseTopology, TopologyError } from "@tandem/config";
import { validDocument, yaml } from "./fixtures";

function linkWith(fields: Record<string, unknown>) {
  const doc = validDocument();
  doc.links[0] = { from: "nyc", to: "lon", ...fields };
  return parseTopology(yaml(doc)).links[0]!;
}

/** The problems as `path: message` lines, without line numbers. */
function problems(fields: Record<string, unknown>): string[] {
  try {
    linkWith(fields);
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyError);
    return (error as TopologyError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error("expected the topology to be rejected");
}

const windowsOf = (...windows: Record<string, unknown>[]) => ({ kind: "windows", timeZone: "UTC", windows });

describe("schedules: valid forms", () => {
  it("gives a stream its own schedule beside the link's", () => {
    const link = linkWith({
      schedule: "continuous",
      schedules: { users: windowsOf({ start: "22:00", end: "06:00" }) },
    });
    expect(link.schedule).toEqual({ kind: "continuous" });
    expect(link.schedules).toEqual({
      users: { kind: "windows", timeZone: "UTC", windows: [{ start: "22:00", end: "06:00" }] },
    });
    expect(linkWith({}).schedules).toEqual({});
  });

  it("reads weekdays, ranges across the weekend and comma lists, in week order", () => {
    const link = linkWith({
      schedule: windowsOf(
        { start: "06:00", end: "20:00", days: ["sat", "sun"] },
        { start: "20:00", end: "06:00", days: "mon-fri" },
      ),
    });
    expect(link.schedule).toMatchObject({
      windows: [{ days: ["sun", "sat"] }, { days: ["mon", "tue", "wed", "thu", "fri"] }],
    });
    expect(
      linkWith({ schedule: windowsOf({ start: "01:00", end: "02:00", days: "FRI-Mon" }) }).schedule,
    ).toMatchObject({
      windows: [{ days: ["sun", "mon", "fri", "sat"] }],
    });
    expect(
      linkWith({ schedule: windowsOf({ start: "01:00", end: "02:00", days: "sat,sun" }) }).schedule,
    ).toMatchObject({
      windows: [{ days: ["sun", "sat"] }],
    });
  });

  it("reads periodic schedules: a period, or times of day on some days", () => {
    expect(linkWith({ schedule: { kind: "periodic", every: "1h" } }).schedule).toEqual({
      kind: "periodic",
      timeZone: "UTC",
      everyMs: 3_600_000,
    });
    expect(
      linkWith({
        schedule: { kind: "periodic", timeZone: "europe/paris", at: ["14:00", "02:00"], days: "sun" },
      }).schedule,
    ).toEqual({ kind: "periodic", timeZone: "Europe/Paris", at: ["02:00", "14:00"], days: ["sun"] });
    expect(linkWith({ schedule: { kind: "periodic", at: "02:00" } }).schedule).toEqual({
      kind: "periodic",
      timeZone: "UTC",
      at: ["02:00"],
    });
  });

  it("accepts windows that touch without overlapping, on the same day or across midnight", () => {
    expect(() =>
      linkWith({
        schedule: windowsOf(
          { start: "22:00", end: "06:00", days: "fri" },
          { start: "06:00", end: "08:00", days: "sat" },
          { start: "08:00", end: "22:00", days: "sat" },
        ),
      }),
    ).not.toThrow();
  });
});

describe("schedules: mistakes", () => {
  it("names an unknown weekday and a malformed range", () => {
    expect(
      problems({ schedule: windowsOf({ start: "01:00", end: "02:00", days: ["sat", "sabado"] }) }),
    ).toEqual([
      'links[0].schedule.windows[0].days: expected a weekday (sun, mon, tue, wed, thu, fri, sat) or a range such as mon-fri, got "sabado"',
    ]);
    expect(problems({ schedule: windowsOf({ start: "01:00", end: "02:00", days: "mon-tue-wed" }) })).toEqual([
      'links[0].schedule.windows[0].days: expected a weekday (sun, mon, tue, wed, thu, fri, sat) or a range such as mon-fri, got "mon-tue-wed"',
    ]);
  });

  it("refuses overlapping windows, also one that runs past midnight into the next day's", () => {
    expect(
      problems({ schedule: windowsOf({ start: "08:00", end: "12:00" }, { start: "11:00", end: "13:00" }) }),
    ).toEqual(["links[0].schedule.windows[1]: overlaps windows[0] (08:00-12:00 every day)"]);
    expect(
      problems({
        schedule: windowsOf(
          { start: "22:00", end: "06:00", days: "sat" },
          { start: "05:00", end: "07:00", days: "sun" },
        ),
      }),
    ).toEqual(["links[0].schedule.windows[1]: overlaps windows[0] (22:00-06:00 sat)"]);
    expect(() =>
      linkWith({
        schedule: windowsOf(
          { start: "22:00", end: "06:00", days: "sat" },
          { start: "05:00", end: "07:00", days: "mon-fri" },
        ),
      }),
    ).not.toThrow();
  });

  it("refuses a period shorter than a minute or longer than a day, and a periodic schedule without ticks", () => {
    const form = "expected a duration from 1m to 24h, such as 1h (for daily or weekly ticks use at and days)";
    expect(problems({ schedule: { kind: "periodic", every: "30s" } })).toEqual([
      `links[0].schedule.every: ${form}, got "30s"`,
    ]);
    expect(problems({ schedule: { kind: "periodic", every: "2d" } })).toEqual([
      `links[0].schedule.every: ${form}, got "2d"`,
    ]);
    expect(problems({ schedule: { kind: "periodic" } })).toEqual([
      "links[0].schedule: give either every (a period) or at (times of day)",
    ]);
    expect(problems({ schedule: { kind: "periodic", every: "1h", at: "02:00" } })).toEqual([
      "links[0].schedule: give either every (a period) or at (times of day)",
    ]);
    expect(problems({ schedule: { kind: "periodic", every: "1h", days: "sun" } })).toEqual([
      "links[0].schedule.days: goes with at, not with every",
    ]);
    expect(problems({ schedule: { kind: "periodic", at: "2am" } })).toEqual([
      'links[0].schedule.at: expected HH:MM, got "2am"',
    ]);
  });

  it("refuses a stream schedule for a stream the link does not carry, or for an unknown stream", () => {
    expect(problems({ streams: ["calls"], schedules: { users: "manual" } })).toEqual([
      "links[0].schedules.users: users is not one of the link's streams (calls)",
    ]);
    expect(problems({ schedules: { audio: "manual" } })).toHaveLength(1);
  });
});
