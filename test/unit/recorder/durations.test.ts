import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Random, drawDurationMs } from "../../../services/recorder/src/simulator";

describe("call durations", () => {
  it("stay within the configured bounds, whatever the seed and bounds", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 0, max: 3600 }),
        (seed, min, extra) => {
          const random = new Random(seed);
          for (let i = 0; i < 50; i++) {
            const ms = drawDurationMs(random, { minCallSeconds: min, maxCallSeconds: min + extra });
            expect(Number.isInteger(ms)).toBe(true);
            expect(ms).toBeGreaterThanOrEqual(min * 1000);
            expect(ms).toBeLessThanOrEqual((min + extra) * 1000);
          }
        },
      ),
    );
  });

  it("default to 5 s .. 20 min, log-normal around a median of a few minutes", () => {
    const random = new Random("distribution");
    const draws = Array.from({ length: 20_000 }, () => drawDurationMs(random)).sort((a, b) => a - b);
    expect(draws[0]).toBeGreaterThanOrEqual(5_000);
    expect(draws.at(-1)).toBeLessThanOrEqual(1_200_000);
    const median = draws[draws.length / 2]!;
    expect(median).toBeGreaterThan(130_000);
    expect(median).toBeLessThan(170_000);
    // A long tail: the mean is well above the median, and some calls reach the cap.
    const mean = draws.reduce((sum, d) => sum + d, 0) / draws.length;
    expect(mean).toBeGreaterThan(median * 1.3);
    expect(draws.filter((d) => d === 1_200_000).length).toBeGreaterThan(0);
  });

  it("honour a small maximum for tests", () => {
    const random = new Random("short");
    for (let i = 0; i < 1000; i++)
      expect(drawDurationMs(random, { maxCallSeconds: 8 })).toBeLessThanOrEqual(8_000);
  });

  it("refuse bounds that cannot hold a duration", () => {
    expect(() => drawDurationMs(new Random("x"), { minCallSeconds: 10, maxCallSeconds: 5 })).toThrow(
      RangeError,
    );
  });
});
