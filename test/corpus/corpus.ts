/**
 * The bad-input corpus: hostile or broken records and topology files, each with the outcome Tandem must
 * give it. `generate.ts` writes the files next to this one; tests read them through these loaders.
 */
import fs from "node:fs";
import path from "node:path";

export const CORPUS_DIR = import.meta.dirname;

/** Where a record is written: nyc's own topic of the stream, or lon's `nyc.<topic>` as if a bridge wrote it. */
export type RecordSite = "nyc" | "lon";
export type RecordStream = "calls" | "users";

/**
 * How the stored bytes become the record value: as they are (`raw`), or as an Avro body behind the
 * Confluent header with the id of the schema registered at the producing site for a stream's topic,
 * or with a fixed id. The id depends on the registry, so it is added when the record is produced.
 */
export type ValueSpec =
  | { kind: "null" }
  | { kind: "raw"; file: string }
  | { kind: "registered"; file: string; schemaOf: RecordStream }
  | { kind: "schema-id"; file: string; schemaId: number };

export type RecordExpectation =
  /** Dead-lettered at `site` by `component`, with a reason matching `reason`; never materialized. */
  | { outcome: "dlq"; site: RecordSite; component: "bridge" | "materializer"; reason: string }
  /** Skipped by the bridge without a trace at the target (a cycle, a filtered tenant or group). */
  | { outcome: "not-forwarded"; skip: string }
  /** Materialized with its metadata, the audio never accepted: failed, and a DLQ record at lon. */
  | { outcome: "audio-failed"; callId: string; reason: string };

export interface RecordEntry {
  id: string;
  description: string;
  site: RecordSite;
  stream: RecordStream;
  key: string | null;
  value: ValueSpec;
  headers: Record<string, string | string[]>;
  /** Audio uploaded to nyc's store under `objectKey` before the record is produced. */
  audio?: { file: string; objectKey: string };
  expect: RecordExpectation;
}

export interface TopologyEntry {
  id: string;
  description: string;
  file: string;
  /** Environment the file is parsed with. */
  env: Record<string, string>;
  /** Every problem, as `path: message` (or the message alone for document-level problems). */
  problems: string[];
}

/** Ids the corpus refers to; the tests build their links around them. */
export const CORPUS_IDS = {
  /** The tenant and group of corpus records that must not be filtered. */
  tenant: "6f1d7f8e-3c1a-4e0b-9a51-0c2d3e4f5a61",
  group: "0b7e5a4c-2d1f-4a3b-8c9d-1e2f3a4b5c6d",
  /** A tenant and a group that the nyc -> lon link of the corpus test denies. */
  deniedTenant: "d3a1c2b4-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
  deniedGroup: "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
} as const;

/** Size of the oversized records: above `MAX_EVENT_VALUE_BYTES`, below the brokers' 1 MiB. */
export const CORPUS_OVERSIZED_BYTES = 300 * 1024;

/** Headers every corpus record carries, so that a test finds its own records again (also in the DLQ). */
export const CORPUS_RUN_HEADER = "tandem-corpus-run";
export const CORPUS_ENTRY_HEADER = "tandem-corpus-entry";

export function loadRecordEntries(): RecordEntry[] {
  return JSON.parse(fs.readFileSync(path.join(CORPUS_DIR, "records.json"), "utf8")) as RecordEntry[];
}

export function loadTopologyEntries(): TopologyEntry[] {
  return JSON.parse(fs.readFileSync(path.join(CORPUS_DIR, "topologies.json"), "utf8")) as TopologyEntry[];
}

export function corpusFile(file: string): Buffer {
  return fs.readFileSync(path.join(CORPUS_DIR, file));
}

export function corpusText(file: string): string {
  return fs.readFileSync(path.join(CORPUS_DIR, file), "utf8");
}
