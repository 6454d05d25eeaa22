import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { parse } from "csv-parse";
import { UsageError } from "../errors";

export type ManifestFormat = "csv" | "jsonl";

/** One data row: its number (1 = the first row after a CSV header), its line, its values or why it has none. */
export interface ManifestRow {
  row: number;
  line: number;
  values: Record<string, unknown>;
  problem?: string;
}

export function formatOf(file: string): ManifestFormat {
  const extension = path.extname(file).toLowerCase();
  if (extension === ".csv") return "csv";
  if ([".jsonl", ".ndjson", ".json"].includes(extension)) return "jsonl";
  throw new UsageError(
    `${file}: a manifest is .csv or .jsonl (JSON lines), not ${extension || "no extension"}`,
  );
}

/**
 * The manifest's rows, streamed: a CSV (header row, RFC 4180 quoting, by csv-parse) or JSON lines (one
 * object per line, nested objects flattened to dotted columns). A CSV that cannot be parsed any further
 * (an unclosed quote) throws; a row that is only wrong in itself comes with its `problem`.
 */
export async function* manifestRows(
  file: string,
  format: ManifestFormat,
  input: fs.ReadStream = fs.createReadStream(file),
): AsyncGenerator<ManifestRow> {
  try {
    yield* format === "jsonl" ? jsonLines(input) : csvRows(file, input);
  } finally {
    // A reader that stops early (an interrupted import) leaves no open file behind.
    input.destroy();
  }
}

async function* jsonLines(input: fs.ReadStream): AsyncGenerator<ManifestRow> {
  let row = 0;
  let line = 0;
  for await (const text of readline.createInterface({ input, crlfDelay: Infinity })) {
    line++;
    if (text.trim() === "") continue;
    row++;
    yield { row, line, ...jsonRow(text) };
  }
}

async function* csvRows(file: string, input: fs.ReadStream): AsyncGenerator<ManifestRow> {
  const parser = input.pipe(
    parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true }),
  );
  let header: string[] | undefined;
  let row = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      if (header === undefined) {
        header = checkedHeader(
          file,
          record.map((c) => c.trim()),
        );
        continue;
      }
      row++;
      const values = Object.fromEntries(header.map((column, i) => [column, record[i]]));
      yield record.length === header.length
        ? { row, line: info.lines, values }
        : {
            row,
            line: info.lines,
            values,
            problem: `has ${record.length} field(s), the header ${header.length}`,
          };
    }
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
}

/**
 * Reads the manifest once before the import: the rows to expect (for the progress's ETA), its sha256
 * (which a saved state must match) and, for a CSV, its header. A CSV that does not parse is refused
 * here, before anything is published.
 */
export async function surveyManifest(
  file: string,
  format: ManifestFormat,
): Promise<{ rows: number; sha256: string; header?: string[] }> {
  let input: fs.ReadStream;
  try {
    fs.accessSync(file, fs.constants.R_OK);
    input = fs.createReadStream(file);
  } catch (error) {
    throw new UsageError(`${file}: cannot read: ${(error as Error).message}`);
  }
  const hash = createHash("sha256");
  input.on("data", (chunk) => hash.update(chunk));
  let rows = 0;
  let header: string[] | undefined;
  for await (const row of manifestRows(file, format, input)) {
    rows++;
    if (format === "csv") header ??= Object.keys(row.values);
  }
  return { rows, sha256: hash.digest("hex"), header };
}

function checkedHeader(file: string, header: string[]): string[] {
  const seen = new Set<string>();
  for (const column of header) {
    if (column === "") throw new UsageError(`${file}: the header has an empty column name`);
    if (seen.has(column)) throw new UsageError(`${file}: the header names column ${column} twice`);
    seen.add(column);
  }
  return header;
}

function jsonRow(text: string): { values: Record<string, unknown>; problem?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { values: {}, problem: `not JSON: ${(error as Error).message}` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { values: {}, problem: "must be a JSON object" };
  }
  return { values: flatten(parsed as Record<string, unknown>) };
}

/** `{"caller": {"number": "1"}}` as `{"caller.number": "1"}`; arrays stay values. */
function flatten(object: Record<string, unknown>, prefix = ""): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      Object.assign(flat, flatten(value as Record<string, unknown>, `${prefix}${key}.`));
    } else {
      flat[`${prefix}${key}`] = value;
    }
  }
  return flat;
}
