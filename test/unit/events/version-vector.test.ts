import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compare, dominates, merge, versionOf } from "@tandem/events";
import type { VersionVector } from "@tandem/events";
import { sampleUser } from "./fixtures";

const t = (wallTimeMs: number, logical = 0) => ({ wallTimeMs, logical });

describe("compare", () => {
  it("finds equal vectors equal, including empty ones", () => {
    expect(compare({}, {})).toBe("equal");
    expect(compare({ nyc: t(5, 1) }, { nyc: t(5, 1) })).toBe("equal");
  });

  it("orders a site's own edits by its HLC", () => {
    expect(compare({ nyc: t(5) }, { nyc: t(5, 1) })).toBe("before");
    expect(compare({ nyc: t(6) }, { nyc: t(5, 9) })).toBe("after");
  });

  it("treats a missing site as older than any edit from it", () => {
    expect(compare({ nyc: t(5) }, { nyc: t(5), lon: t(1) })).toBe("before");
    expect(compare({ nyc: t(5), lon: t(1) }, { nyc: t(5) })).toBe("after");
  });

  it("finds edits at two sites that did not see each other concurrent", () => {
    expect(compare({ nyc: t(5) }, { lon: t(3) })).toBe("concurrent");
    expect(compare({ nyc: t(6), lon: t(1) }, { nyc: t(5), lon: t(2) })).toBe("concurrent");
  });

  it("is antisymmetric", () => {
    const vv = fc.dictionary(
      fc.constantFrom("nyc", "lon", "par"),
      fc.record({ wallTimeMs: fc.nat(5), logical: fc.nat(2) }),
    );
    const mirror = { equal: "equal", before: "after", after: "before", concurrent: "concurrent" } as const;
    fc.assert(fc.property(vv, vv, (a, b) => compare(b, a) === mirror[compare(a, b)]));
  });
});

describe("dominates", () => {
  it("holds for after and equal, not for before or concurrent", () => {
    expect(dominates({ nyc: t(5), lon: t(2) }, { nyc: t(5) })).toBe(true);
    expect(dominates({ nyc: t(5) }, { nyc: t(5) })).toBe(true);
    expect(dominates({ nyc: t(4) }, { nyc: t(5) })).toBe(false);
    expect(dominates({ nyc: t(5) }, { lon: t(1) })).toBe(false);
  });
});

describe("merge", () => {
  it("takes the pointwise maximum", () => {
    expect(merge({ nyc: t(5, 2), lon: t(1) }, { nyc: t(5, 1), par: t(3) })).toEqual({
      nyc: t(5, 2),
      lon: t(1),
      par: t(3),
    });
  });

  it("dominates both sides, is commutative and leaves its inputs alone", () => {
    const vv = fc.dictionary(
      fc.constantFrom("nyc", "lon", "par"),
      fc.record({ wallTimeMs: fc.nat(5), logical: fc.nat(2) }),
    );
    fc.assert(
      fc.property(vv, vv, (a, b) => {
        const before = JSON.stringify([a, b]);
        const m = merge(a, b);
        expect(dominates(m, a) && dominates(m, b)).toBe(true);
        expect(compare(m, merge(b, a))).toBe("equal");
        expect(JSON.stringify([a, b])).toBe(before);
      }),
    );
  });
});

describe("versionOf", () => {
  it("raises the origin's entry to the edit's HLC", () => {
    const base: VersionVector = { nyc: t(100), lon: t(50) };
    expect(versionOf(sampleUser({ originSite: "nyc", hlc: t(200, 1), baseVersion: base }))).toEqual({
      nyc: t(200, 1),
      lon: t(50),
    });
    expect(base).toEqual({ nyc: t(100), lon: t(50) });
  });

  it("adds the origin when the base has not seen it", () => {
    expect(versionOf(sampleUser({ originSite: "par", hlc: t(7), baseVersion: { lon: t(5) } }))).toEqual({
      lon: t(5),
      par: t(7),
    });
  });

  it("keeps a base entry that is already ahead of the edit's HLC", () => {
    expect(versionOf(sampleUser({ originSite: "nyc", hlc: t(10), baseVersion: { nyc: t(20) } }))).toEqual({
      nyc: t(20),
    });
  });

  it("orders a site's successive edits and makes edits from one base at two sites concurrent", () => {
    const base: VersionVector = { nyc: t(100) };
    const first = versionOf(sampleUser({ originSite: "nyc", hlc: t(110), baseVersion: base }));
    const second = versionOf(sampleUser({ originSite: "nyc", hlc: t(120), baseVersion: first }));
    const elsewhere = versionOf(sampleUser({ originSite: "lon", hlc: t(115), baseVersion: base }));
    expect(compare(first, second)).toBe("before");
    expect(compare(first, elsewhere)).toBe("concurrent");
    expect(compare(second, elsewhere)).toBe("concurrent");
    expect(compare(merge(second, elsewhere), second)).toBe("after");
  });
});
