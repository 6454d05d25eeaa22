import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../../services/cli/src/errors";
import { formatOf, manifestRows, surveyManifest } from "../../../services/cli/src/import/manifest";
import { progressLine, summary } from "../../../services/cli/src/import/core/report";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-import-manifest-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeFile(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

async function rowsOf(file: string) {
  const rows = [];
  for await (const row of manifestRows(file, formatOf(file))) rows.push(row);
  return rows;
}

describe("import: reading a manifest", () => {
  it("streams a CSV with quoting and a BOM, numbering rows and lines; a short row has a problem", async () => {
    const file = writeFile(
      "calls.csv",
      '\ufeffid,callerName,audio\r\nA-1,"Lovelace, Ada",a.wav\r\n\r\nA-2,"two\nlines",b.wav\r\nA-3,c.wav\r\n',
    );
    expect(await rowsOf(file)).toEqual([
      { row: 1, line: 2, values: { id: "A-1", callerName: "Lovelace, Ada", audio: "a.wav" } },
      { row: 2, line: 5, values: { id: "A-2", callerName: "two\nlines", audio: "b.wav" } },
      {
        row: 3,
        line: 6,
        values: { id: "A-3", callerName: "c.wav", audio: undefined },
        problem: "has 2 field(s), the header 3",
      },
    ]);
    const survey = await surveyManifest(file, "csv");
    expect(survey).toMatchObject({ rows: 3, header: ["id", "callerName", "audio"] });
    expect(survey.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("streams JSON lines, flattening nested objects; a bad line is a row with a problem", async () => {
    const file = writeFile(
      "calls.jsonl",
      '{"id":"A-1","caller":{"number":"1","name":null},"participantUserIds":["u"]}\n\nnot json\n[1]\n',
    );
    const rows = await rowsOf(file);
    expect(rows[0]).toEqual({
      row: 1,
      line: 1,
      values: { id: "A-1", "caller.number": "1", "caller.name": null, participantUserIds: ["u"] },
    });
    expect(rows.slice(1).map((r) => [r.row, r.line, r.problem?.split(":")[0]])).toEqual([
      [2, 3, "not JSON"],
      [3, 4, "must be a JSON object"],
    ]);
  });

  it("refuses what cannot be read as a manifest, before anything is published", async () => {
    expect(() => formatOf("calls.xlsx")).toThrow(UsageError);
    const unclosed = writeFile("unclosed.csv", 'id,audio\nA-1,"a.wav\n');
    await expect(surveyManifest(unclosed, "csv")).rejects.toThrow(UsageError);
    const twice = writeFile("twice.csv", "id,id\n1,2\n");
    await expect(surveyManifest(twice, "csv")).rejects.toThrow(`${twice}: the header names column id twice`);
    await expect(surveyManifest(path.join(dir, "absent.csv"), "csv")).rejects.toThrow(/cannot read: ENOENT/);
  });
});

describe("import: what it prints", () => {
  it("a progress line with the ETA, and a summary listing the first rejects", () => {
    expect(progressLine(250, 1000, 240, 5000)).toBe("  250/1000 rows (25%), 240 imported, ETA 15s");
    const tally = {
      rows: 12,
      skipped: 2,
      imported: 9,
      importable: 0,
      bytes: 450_000,
      rejected: 1,
      elapsedMs: 3000,
    };
    expect(
      summary(
        tally,
        { file: "r.jsonl", first: [{ row: 7, line: 8, id: "A-7", reason: "audio x: no such file" }] },
        false,
      ),
    ).toEqual([
      "imported 9 call(s), 450.0 kB of audio, in 3.0s (3.0 calls/s, 150.0 kB/s); 2 already imported by an earlier run",
      "1 row(s) rejected, listed in r.jsonl:",
      "  row 7 (line 8) id A-7: audio x: no such file",
    ]);
  });
});
