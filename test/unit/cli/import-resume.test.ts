import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RowsDone, resumeRefusal } from "../../../services/cli/src/import/core/resume";

const identity = {
  site: "nyc",
  manifestSha256: "ab".repeat(32),
  idNamespace: "0b8e6f3c-2d47-4c1a-9e55-7a1f4b6d2c90",
};

describe("import: the rows done", () => {
  it("keeps rows done out of order as few ranges, and survives a save and a load", () => {
    const done = new RowsDone();
    for (const row of [1, 2, 4, 3, 7, 9, 8]) done.add(row);
    expect(done.toJSON()).toEqual([
      [1, 4],
      [7, 9],
    ]);
    expect(done.count).toBe(7);
    const loaded = new RowsDone(JSON.parse(JSON.stringify(done.toJSON())) as Array<[number, number]>);
    expect([5, 6, 10].map((r) => loaded.has(r))).toEqual([false, false, false]);
    expect([1, 4, 7, 9].map((r) => loaded.has(r))).toEqual([true, true, true, true]);
  });

  it("holds exactly the rows added, whatever their order (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 200 })), (rows) => {
        const done = new RowsDone();
        for (const row of rows) done.add(row);
        const added = new Set(rows);
        for (let row = 1; row <= 201; row++) expect(done.has(row)).toBe(added.has(row));
        expect(done.count).toBe(added.size);
        const ranges = done.toJSON();
        // Disjoint, sorted, not adjacent: as few ranges as the gaps allow.
        for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThan(ranges[i - 1]![1] + 1);
      }),
    );
  });
});

describe("import: resuming a saved state", () => {
  it("resumes only the same manifest, at the same site, with the same id namespace", () => {
    const saved = { version: 1, ...identity, done: [[1, 5]] };
    expect(resumeRefusal(saved, identity)).toBeUndefined();
    expect(resumeRefusal(saved, { ...identity, manifestSha256: "cd".repeat(32) })).toBe(
      "belongs to another version of the manifest (its sha256 differs)",
    );
    expect(resumeRefusal(saved, { ...identity, site: "lon" })).toBe("belongs to an import at site nyc");
    expect(resumeRefusal(saved, { ...identity, idNamespace: "x" })).toMatch(
      /^was written with --id-namespace/,
    );
    for (const bad of [
      null,
      [],
      { ...saved, version: 2 },
      { ...saved, done: [[5, 1]] },
      { ...saved, done: "1-5" },
    ]) {
      expect(resumeRefusal(bad, identity)).toBe("is not an import state file");
    }
  });
});
