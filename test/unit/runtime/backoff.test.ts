import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_BACKOFF, retryWithBackoff } from "@tandem/runtime";
import type { BackoffPolicy } from "@tandem/runtime";

const policy: BackoffPolicy = { initialMs: 100, maxMs: 5_000, multiplier: 2, jitter: 0.5 };

describe("backoffDelay", () => {
  it("grows exponentially without jitter until the cap", () => {
    const noJitter = { ...policy, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5, 6, 10, 1000].map((a) => backoffDelay(a, () => 0.7, noJitter))).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000,
    ]);
  });

  it("takes the jitter fraction off at random", () => {
    expect(backoffDelay(2, () => 0, policy)).toBe(400);
    expect(backoffDelay(2, () => 0.5, policy)).toBe(300);
    expect(backoffDelay(2, () => 0.999999, policy)).toBe(200);
  });

  it("stays within [capped * (1 - jitter), capped] and never above the cap", () => {
    fc.assert(
      fc.property(
        fc.nat(200),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const delay = backoffDelay(attempt, () => r, DEFAULT_BACKOFF);
          const capped = Math.min(DEFAULT_BACKOFF.maxMs, DEFAULT_BACKOFF.initialMs * 2 ** attempt);
          return (
            delay <= capped &&
            delay >= Math.floor(capped * (1 - DEFAULT_BACKOFF.jitter)) &&
            delay <= DEFAULT_BACKOFF.maxMs
          );
        },
      ),
    );
  });

  it("rejects a bad attempt, jitter or random source", () => {
    expect(() => backoffDelay(-1, () => 0)).toThrow(RangeError);
    expect(() => backoffDelay(1.5, () => 0)).toThrow(RangeError);
    expect(() => backoffDelay(0, () => 1)).toThrow(RangeError);
    expect(() => backoffDelay(0, () => Number.NaN)).toThrow(RangeError);
    expect(() => backoffDelay(0, () => 0, { ...policy, jitter: 2 })).toThrow(RangeError);
  });
});

describe("retryWithBackoff", () => {
  const fast = { policy: { initialMs: 1, maxMs: 1, multiplier: 1, jitter: 0 } };

  it("retries until the action succeeds", async () => {
    let calls = 0;
    const result = await retryWithBackoff(async () => {
      if (++calls < 3) throw new Error("not yet");
      return "done";
    }, fast);
    expect(result).toBe("done");
    expect(calls).toBe(3);
  });

  it("throws at once an error that retryIf refuses, without waiting or calling again", async () => {
    let calls = 0;
    const retries: unknown[] = [];
    const refused = new Error("abandoned");
    await expect(
      retryWithBackoff(
        async () => {
          calls++;
          throw calls === 1 ? new Error("transient") : refused;
        },
        { ...fast, retryIf: (error) => error !== refused, onRetry: (_attempt, error) => retries.push(error) },
      ),
    ).rejects.toBe(refused);
    expect(calls).toBe(2);
    expect(retries).toHaveLength(1);
  });
});
