import { describe, expect, it } from "vitest";
import { DuplicateWindow } from "../../../services/bridge/src/core/duplicate-window";

describe("duplicate window", () => {
  it("returns the ids a partition delivered before, within one call and across calls", () => {
    const window = new DuplicateWindow(10);
    expect(window.delivered("calls/0", ["a", "b", "a"])).toEqual(["a"]);
    expect(window.delivered("calls/0", ["c", "b"])).toEqual(["b"]);
  });

  it("keeps partitions apart: the same id in two partitions is no duplicate", () => {
    const window = new DuplicateWindow(10);
    window.delivered("calls/0", ["a"]);
    expect(window.delivered("calls/1", ["a"])).toEqual([]);
  });

  it("forgets the oldest ids beyond its capacity, and a repeat counts as recent again", () => {
    const window = new DuplicateWindow(3);
    window.delivered("p", ["a", "b", "c"]);
    expect(window.delivered("p", ["a"])).toEqual(["a"]); // a is now the newest: b goes next
    window.delivered("p", ["d"]);
    expect(window.delivered("p", ["b"])).toEqual([]);
    expect(window.delivered("p", ["a", "d"])).toEqual(["a", "d"]);
  });

  it("holds at most its capacity per partition, however many ids go through", () => {
    const window = new DuplicateWindow(100);
    const ids = Array.from({ length: 10_000 }, (_, i) => `id-${i}`);
    expect(window.delivered("p", ids)).toEqual([]);
    expect(window.delivered("p", ids.slice(0, 9_900))).toEqual([]);
    expect(window.delivered("p", ids.slice(-100))).toHaveLength(0);
  });

  it("refuses a capacity that is not a whole number of at least one", () => {
    expect(() => new DuplicateWindow(0)).toThrow(/capacity/);
  });
});

describe("duplicate window against the plain list of the last deliveries", () => {
  it("reports exactly the ids among a partition's last `capacity` deliveries, repeats included", () => {
    const capacity = 50;
    const window = new DuplicateWindow(capacity);
    let seed = 7;
    const nextId = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return `id-${seed % 120}`;
    };
    const lastDeliveries: string[] = [];
    for (let call = 0; call < 400; call++) {
      const ids = Array.from({ length: 1 + (call % 9) }, nextId);
      const expected = ids.filter((id) => {
        const held = lastDeliveries.includes(id);
        lastDeliveries.push(id);
        if (lastDeliveries.length > capacity) lastDeliveries.shift();
        return held;
      });
      expect(window.delivered("p", ids)).toEqual(expected);
    }
  });
});
