import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FAULT_KINDS,
  faultSchedule,
  faultsByKind,
  peakConcurrency,
  resourcesOf,
  type ScheduleOptions,
} from "../../support/soak/schedule";

const sites = ["nyc", "lon", "sfo"];
const links = sites.flatMap((from) => sites.filter((to) => to !== from).map((to) => ({ from, to })));
const options = (seed: string | number, durationMs = 600_000): ScheduleOptions => ({
  seed,
  durationMs,
  sites,
  links,
});

describe("fault schedule", () => {
  it("is the same for the same seed and differs for another", () => {
    expect(faultSchedule(options(7))).toEqual(faultSchedule(options(7)));
    expect(faultSchedule(options(7))).not.toEqual(faultSchedule(options(8)));
  });

  it("keeps every fault inside the run, within the duration bounds, one resource at a time", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 20_000, max: 900_000 }), (seed, durationMs) => {
        const faults = faultSchedule(options(seed, durationMs));
        for (const fault of faults) {
          expect(fault.atMs).toBeGreaterThanOrEqual(0);
          expect(fault.atMs + fault.durationMs).toBeLessThanOrEqual(durationMs);
          expect(fault.durationMs).toBeGreaterThanOrEqual(5000);
          expect(fault.durationMs).toBeLessThanOrEqual(25_000);
        }
        expect(peakConcurrency(faults)).toBeLessThanOrEqual(2);
        for (const [i, a] of faults.entries()) {
          for (const b of faults.slice(i + 1)) {
            const overlap = a.atMs < b.atMs + b.durationMs && b.atMs < a.atMs + a.durationMs;
            if (overlap) expect(resourcesOf(a).filter((r) => resourcesOf(b).includes(r))).toEqual([]);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it("tries every kind in a run long enough, one at a time and overlapping", () => {
    const faults = faultSchedule(options(1, 180_000));
    expect(Object.values(faultsByKind(faults)).every((n) => n > 0)).toBe(true);
    expect(peakConcurrency(faults)).toBe(2);
    expect(
      faults.some((f, i) =>
        faults.every((g, j) => i === j || g.atMs >= f.atMs + f.durationMs || f.atMs >= g.atMs + g.durationMs),
      ),
    ).toBe(true);
  });

  it("honours a lower ceiling of faults at once", () => {
    const faults = faultSchedule({ ...options(3), maxConcurrent: 1 });
    expect(faults.length).toBeGreaterThan(10);
    expect(peakConcurrency(faults)).toBe(1);
  });

  it("aims link faults at links and site faults at sites, and cuts either way", () => {
    const faults = faultSchedule(options(11, 900_000));
    for (const fault of faults) {
      if (fault.kind === "kill-bridge" || fault.kind === "cut-link") expect(links).toContainEqual(fault.link);
      else expect(sites).toContain(fault.site);
    }
    const modes = new Set(faults.flatMap((f) => (f.kind === "cut-link" ? [f.mode] : [])));
    expect(modes).toEqual(new Set(["refuse", "blackhole"]));
  });

  it("refuses bounds that make no sense", () => {
    expect(() => faultSchedule({ ...options(1), minFaultMs: 10_000, maxFaultMs: 5000 })).toThrow(RangeError);
    expect(() => faultSchedule({ ...options(1), sites: [] })).toThrow(/at least one site/);
  });

  it("counts faults by kind, every kind named", () => {
    const counts = faultsByKind(faultSchedule(options(5)));
    expect(Object.keys(counts).sort()).toEqual([...FAULT_KINDS].sort());
  });
});

describe("peak concurrency", () => {
  it("does not count a fault that ends as another starts as overlapping", () => {
    expect(
      peakConcurrency([
        { kind: "stop-kafka", site: "nyc", atMs: 0, durationMs: 10 },
        { kind: "stop-kafka", site: "lon", atMs: 10, durationMs: 10 },
      ]),
    ).toBe(1);
    expect(
      peakConcurrency([
        { kind: "stop-kafka", site: "nyc", atMs: 0, durationMs: 11 },
        { kind: "stop-kafka", site: "lon", atMs: 10, durationMs: 10 },
      ]),
    ).toBe(2);
  });
});
