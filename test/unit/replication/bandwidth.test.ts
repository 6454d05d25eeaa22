import { describe, expect, it } from "vitest";
import { parseTopology, TopologyError, type BandwidthCap } from "@tandem/config";
import { capAt, capLabel } from "@tandem/replication";
import { TokenBucket } from "@tandem/runtime";
import { validDocument, yaml } from "../config/fixtures";

function capOf(bandwidth: unknown): BandwidthCap | undefined {
  const doc = validDocument();
  doc.links[0] = { from: "nyc", to: "lon", bandwidth };
  return parseTopology(yaml(doc)).links[0]!.bandwidth;
}

function problems(bandwidth: unknown): string[] {
  try {
    capOf(bandwidth);
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyError);
    return (error as TopologyError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error("expected the topology to be rejected");
}

describe("a link's bandwidth cap in the topology", () => {
  it("reads line rates in bits or bytes per second", () => {
    expect(capOf("10mbit")).toEqual({ timeZone: "UTC", bytesPerSecond: 1_250_000, windows: [] });
    expect(capOf("1gbit")?.bytesPerSecond).toBe(125_000_000);
    expect(capOf("512kbit")?.bytesPerSecond).toBe(64_000);
    expect(capOf("2MB/s")?.bytesPerSecond).toBe(2_000_000);
    expect(capOf("1.5 Mbit")?.bytesPerSecond).toBe(187_500);
  });

  it("reads a cap by window, with or without one outside the windows", () => {
    expect(
      capOf({
        timeZone: "europe/london",
        rate: "100mbit",
        windows: [{ start: "08:00", end: "18:00", days: "mon-fri", rate: "10mbit" }],
      }),
    ).toEqual({
      timeZone: "Europe/London",
      bytesPerSecond: 12_500_000,
      windows: [
        {
          start: "08:00",
          end: "18:00",
          days: ["mon", "tue", "wed", "thu", "fri"],
          bytesPerSecond: 1_250_000,
        },
      ],
    });
    expect(capOf({ windows: [{ start: "08:00", end: "18:00", rate: "10mbit" }] })).toEqual({
      timeZone: "UTC",
      windows: [{ start: "08:00", end: "18:00", bytesPerSecond: 1_250_000 }],
    });
  });

  it("refuses a malformed or tiny rate, a cap without any rate, and overlapping windows", () => {
    const form = "expected a rate of at least 8kbit, such as 10mbit, 1gbit or 2MB/s";
    expect(problems("fast")).toEqual([`links[0].bandwidth.rate: ${form}, got "fast"`]);
    expect(problems("1kbit")).toEqual([`links[0].bandwidth.rate: ${form}, got "1kbit"`]);
    expect(problems({ timeZone: "UTC" })).toEqual([
      "links[0].bandwidth: give a rate, windows with a rate, or both",
    ]);
    expect(
      problems({
        windows: [
          { start: "08:00", end: "18:00", rate: "10mbit" },
          { start: "17:00", end: "20:00", rate: "20mbit" },
        ],
      }),
    ).toEqual(["links[0].bandwidth.windows[1]: overlaps windows[0] (08:00-18:00 every day)"]);
    expect(problems({ windows: [{ start: "08:00", end: "18:00" }] })).toEqual([
      "links[0].bandwidth.windows[0].rate: required",
    ]);
  });
});

describe("the cap in force", () => {
  const officeHours: BandwidthCap = {
    timeZone: "Europe/London",
    bytesPerSecond: 12_500_000,
    windows: [
      { start: "08:00", end: "18:00", days: ["mon", "tue", "wed", "thu", "fri"], bytesPerSecond: 1_250_000 },
    ],
  };

  it("is the window's inside it, the outside rate elsewhere, none without a cap", () => {
    expect(capAt(officeHours, new Date("2025-07-01T08:00:00Z"))).toBe(1_250_000); // Tuesday 09:00 BST
    expect(capAt(officeHours, new Date("2025-07-01T17:00:00Z"))).toBe(12_500_000); // 18:00 BST
    expect(capAt(officeHours, new Date("2025-07-05T10:00:00Z"))).toBe(12_500_000); // Saturday
    expect(
      capAt({ ...officeHours, bytesPerSecond: undefined }, new Date("2025-07-05T10:00:00Z")),
    ).toBeUndefined();
    expect(capAt(undefined, new Date())).toBeUndefined();
  });

  it("reads as operators wrote it", () => {
    expect(capLabel(officeHours)).toBe("10mbit 08:00-18:00 mon-fri, 100mbit otherwise (Europe/London)");
    expect(capLabel({ timeZone: "UTC", bytesPerSecond: 1_250_000, windows: [] })).toBe("10mbit");
  });
});

describe("token bucket", () => {
  it("starts empty: the first bytes already wait their time at the rate", () => {
    const bucket = new TokenBucket(1000, 0);
    expect(bucket.take(500, 0)).toBe(500);
    expect(bucket.take(500, 500)).toBe(500);
  });

  it("keeps at most a second's worth while idle, so a burst after a pause is bounded", () => {
    const bucket = new TokenBucket(1000, 0);
    expect(bucket.take(1000, 60_000)).toBe(0);
    expect(bucket.take(1000, 60_000)).toBe(1000);
  });

  it("holds a steady sender to the rate over a minute, whatever its chunk sizes", () => {
    const bucket = new TokenBucket(250_000, 0);
    let now = 0;
    let sent = 0;
    const chunks = [16_384, 65_536, 1_000, 200_000, 7];
    for (let i = 0; now < 60_000; i++) {
      const size = chunks[i % chunks.length]!;
      now += bucket.take(size, now);
      sent += size;
    }
    expect(sent / (now / 1000)).toBeGreaterThan(250_000 * 0.98);
    expect(sent / (now / 1000)).toBeLessThan(250_000 * 1.02 + 200_000 / 60);
  });

  it("takes a new rate from the moment it is set", () => {
    const bucket = new TokenBucket(1000, 0);
    expect(bucket.take(1000, 0)).toBe(1000);
    bucket.setRate(10_000, 1000);
    expect(bucket.take(10_000, 1000)).toBe(1000);
  });
});
