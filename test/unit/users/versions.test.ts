import type { Hlc } from "@tandem/events";
import { describe, expect, it } from "vitest";
import {
  compareHlc,
  compareVersions,
  eventVersion,
  mergeVersions,
} from "../../../services/materializer/src/core/users/versions";
import { hlc, upsert, vv } from "./fixtures";

describe("user merge clock comparisons", () => {
  it("orders clocks by wall time, then logical counter", () => {
    expect(compareHlc(hlc(1, 9), hlc(2, 0))).toBeLessThan(0);
    expect(compareHlc(hlc(2, 1), hlc(2, 0))).toBeGreaterThan(0);
    expect(compareHlc(hlc(2, 1), hlc(2, 1))).toBe(0);
  });

  it("compares version vectors pointwise, a missing site ranking lowest", () => {
    expect(compareVersions(vv({ a: 1, b: 2 }), vv({ b: 2, a: 1 }))).toBe("equal");
    expect(compareVersions(vv({ a: 1 }), vv({ a: 1, b: 0 }))).toBe("before");
    expect(compareVersions(vv({ a: 2, b: 1 }), vv({ a: 1, b: 1 }))).toBe("after");
    expect(compareVersions(vv({ a: 2 }), vv({ b: 1 }))).toBe("concurrent");
    expect(compareVersions({ a: hlc(1, 1) }, { a: hlc(1, 0) })).toBe("after");
  });

  it("merges pointwise", () => {
    expect(mergeVersions([vv({ a: 3, b: 1 }), { b: hlc(1, 4) }, vv({ c: 2 })])).toEqual({
      a: hlc(3),
      b: hlc(1, 4),
      c: hlc(2),
    });
  });

  it("raises the origin's entry of the base to the event's clock, never lowers it", () => {
    const edit = (base: Record<string, number>, site: string, at: Hlc) =>
      upsert({ id: "e", site, at, base, set: { name: "x" } });
    expect(eventVersion(edit({ a: 1, b: 5 }, "a", hlc(4)))).toEqual(vv({ a: 4, b: 5 }));
    expect(eventVersion(edit({ a: 7 }, "a", hlc(4)))).toEqual(vv({ a: 7 }));
    expect(eventVersion(edit({}, "c", hlc(4, 2)))).toEqual({ c: hlc(4, 2) });
  });
});
