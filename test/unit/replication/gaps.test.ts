import { describe, expect, it } from "vitest";
import { gapComponent, gapDeprives, gapMessage, latestGaps, type GapRecord } from "@tandem/replication";

const gap = (component: string): GapRecord => ({
  site: "nyc",
  component,
  groupId: "g",
  topic: "calls.completed",
  partition: 0,
  firstOffset: "10",
  lastOffset: "19",
  count: 10,
  detectedAt: "2026-12-05T00:00:00.000Z",
});

describe("which site a gap deprived", () => {
  it("is the target of the link whose bridge found it", () => {
    const found = gap(gapComponent.bridge({ from: "nyc", to: "lon" }));
    expect(found.component).toBe("bridge nyc->lon");
    expect(gapDeprives(found, "lon")).toBe(true);
    expect(gapDeprives(found, "nyc")).toBe(false);
  });

  it("is the materializer's own site", () => {
    const found = gap(gapComponent.materializer("lon"));
    expect(found.component).toBe("materializer lon");
    expect(gapDeprives(found, "lon")).toBe(true);
    expect(gapDeprives(found, "nyc")).toBe(false);
  });

  it("is not a site whose id only ends like the target's", () => {
    expect(gapDeprives(gap(gapComponent.bridge({ from: "nyc", to: "xlon" })), "lon")).toBe(false);
    expect(gapDeprives(gap(gapComponent.materializer("xlon")), "lon")).toBe(false);
  });
});

describe("gap records", () => {
  it("keep the latest state of each gap, with how it was resolved", () => {
    const open = gap(gapComponent.bridge({ from: "nyc", to: "lon" }));
    const healed: GapRecord = { ...open, acknowledgedAt: "2026-12-05T01:00:00.000Z", resolution: "repaired" };
    const records = [open, healed].map((g) => Buffer.from(gapMessage(g).value));
    expect([...latestGaps([...records, Buffer.from("not json"), null]).values()]).toEqual([healed]);
  });
});
