import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HybridLogicalClock, compareHlc } from "@tandem/events";
import type { Hlc } from "@tandem/events";

/** A physical clock the test moves by hand. */
function manualClock(startMs: number): { read: () => number; set: (ms: number) => void } {
  let now = startMs;
  return { read: () => now, set: (ms) => (now = ms) };
}

describe("compareHlc", () => {
  it("orders by wall time, then by logical counter", () => {
    expect(compareHlc({ wallTimeMs: 1, logical: 9 }, { wallTimeMs: 2, logical: 0 })).toBeLessThan(0);
    expect(compareHlc({ wallTimeMs: 2, logical: 1 }, { wallTimeMs: 2, logical: 0 })).toBeGreaterThan(0);
    expect(compareHlc({ wallTimeMs: 2, logical: 1 }, { wallTimeMs: 2, logical: 1 })).toBe(0);
  });
});

describe("HybridLogicalClock.now", () => {
  it("follows the physical clock when it advances", () => {
    const clock = manualClock(1000);
    const hlc = new HybridLogicalClock(clock.read);
    expect(hlc.now()).toEqual({ wallTimeMs: 1000, logical: 0 });
    clock.set(1005);
    expect(hlc.now()).toEqual({ wallTimeMs: 1005, logical: 0 });
  });

  it("counts events within the same millisecond", () => {
    const hlc = new HybridLogicalClock(() => 1000);
    expect([hlc.now(), hlc.now(), hlc.now()]).toEqual([
      { wallTimeMs: 1000, logical: 0 },
      { wallTimeMs: 1000, logical: 1 },
      { wallTimeMs: 1000, logical: 2 },
    ]);
  });

  it("never goes back when the physical clock steps back", () => {
    const clock = manualClock(5000);
    const hlc = new HybridLogicalClock(clock.read);
    const before = hlc.now();
    clock.set(4000);
    const after = hlc.now();
    expect(after).toEqual({ wallTimeMs: 5000, logical: 1 });
    expect(compareHlc(after, before)).toBeGreaterThan(0);
  });

  it("continues after the timestamp it was restarted with", () => {
    const hlc = new HybridLogicalClock(() => 100, { wallTimeMs: 200, logical: 7 });
    expect(hlc.now()).toEqual({ wallTimeMs: 200, logical: 8 });
  });
});

describe("HybridLogicalClock.receive", () => {
  it("jumps past a remote timestamp ahead of the local clock", () => {
    const hlc = new HybridLogicalClock(() => 1000);
    hlc.now();
    expect(hlc.receive({ wallTimeMs: 3000, logical: 4 })).toEqual({ wallTimeMs: 3000, logical: 5 });
    expect(hlc.now()).toEqual({ wallTimeMs: 3000, logical: 6 });
  });

  it("takes the larger counter when local and remote share the wall time", () => {
    const hlc = new HybridLogicalClock(() => 1000, { wallTimeMs: 2000, logical: 2 });
    expect(hlc.receive({ wallTimeMs: 2000, logical: 9 })).toEqual({ wallTimeMs: 2000, logical: 10 });
  });

  it("keeps counting locally when the remote is behind", () => {
    const hlc = new HybridLogicalClock(() => 1000, { wallTimeMs: 2000, logical: 2 });
    expect(hlc.receive({ wallTimeMs: 1500, logical: 9 })).toEqual({ wallTimeMs: 2000, logical: 3 });
  });

  it("restarts the counter when the physical clock is ahead of both", () => {
    const hlc = new HybridLogicalClock(() => 9000, { wallTimeMs: 2000, logical: 2 });
    expect(hlc.receive({ wallTimeMs: 3000, logical: 9 })).toEqual({ wallTimeMs: 9000, logical: 0 });
  });
});

describe("HybridLogicalClock properties", () => {
  const hlcArb = fc.record({
    wallTimeMs: fc.integer({ min: 0, max: 10_000 }),
    logical: fc.integer({ min: 0, max: 50 }),
  });
  const stepArb = fc.oneof(
    fc.record({ kind: fc.constant("now" as const), physical: fc.integer({ min: 0, max: 10_000 }) }),
    fc.record({
      kind: fc.constant("receive" as const),
      physical: fc.integer({ min: 0, max: 10_000 }),
      remote: hlcArb,
    }),
  );

  it("issues strictly increasing timestamps that exceed every received one, whatever the physical clock does", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
        const clock = manualClock(0);
        const hlc = new HybridLogicalClock(clock.read);
        let previous: Hlc = hlc.peek();
        for (const step of steps) {
          clock.set(step.physical);
          const issued = step.kind === "now" ? hlc.now() : hlc.receive(step.remote);
          expect(compareHlc(issued, previous)).toBeGreaterThan(0);
          if (step.kind === "receive") expect(compareHlc(issued, step.remote)).toBeGreaterThan(0);
          expect(issued.wallTimeMs).toBeGreaterThanOrEqual(step.physical);
          previous = issued;
        }
      }),
    );
  });
});
