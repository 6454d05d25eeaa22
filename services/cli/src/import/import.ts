import fs from "node:fs";
import path from "node:path";
import type { SiteConfig } from "@tandem/config";
import { CALLS_TOPIC } from "@tandem/events";
import type { RecorderPublisher } from "@tandem/recorder";
import { UsageError } from "../errors";
import { reach, withPublisher } from "../publish/site";
import type { Mapping } from "./core/mapping";
import { unknownMappedColumn } from "./core/mapping";
import type { ImportTally, Reject } from "./core/report";
import { RowsDone, resumeRefusal, type ImportState } from "./core/resume";
import { callOfRow, type ImportCall, type RowVerdict } from "./core/rows";
import { manifestRows, surveyManifest, type ManifestFormat } from "./manifest";
import { readState, writeState } from "./state-file";

export interface ImportRequest {
  manifest: string;
  format: ManifestFormat;
  /** Where the manifest's relative audio paths start. */
  audioDir: string;
  mapping: Mapping;
  site: SiteConfig;
  idNamespace: string;
  /** Calls uploaded and published at once. */
  concurrency: number;
  dryRun: boolean;
  rejectsFile: string;
  stateFile: string;
}

export interface ImportOutput {
  say(line: string): void;
  progress(total: number): { update(processed: number, imported: number): void; stop(): void };
}

export interface ImportOutcome extends ImportTally {
  firstRejects: Reject[];
  /** Stopped by `stop` before every row was read. */
  interrupted: boolean;
}

/** How many rejects the closing lines show; the report file has them all. */
const SHOWN_REJECTS = 10;
/** How often the rows done are saved while rows complete: a crash repeats at most this much work. */
const SAVE_EVERY_MS = 500;

/**
 * Imports an archive's calls at a site: the manifest is read twice, streamed (once to count and hash
 * it, once to import), each row checked by the publisher's rules, its audio uploaded and its event
 * published with `concurrency` rows in flight. Rows done are saved in the state file, so a rerun after a
 * crash or `stop` skips them; a row published again before its completion was saved gets the same
 * call and event ids, which every site applies once.
 */
export async function importArchive(
  request: ImportRequest,
  out: ImportOutput,
  stop: AbortSignal,
): Promise<ImportOutcome> {
  const { site, mapping } = request;
  const survey = await surveyManifest(request.manifest, request.format);
  const mismatch = survey.header && unknownMappedColumn(mapping, survey.header);
  if (mismatch) throw new UsageError(mismatch);

  const identity = { site: site.id, manifestSha256: survey.sha256, idNamespace: request.idNamespace };
  const saved = readState(request.stateFile);
  const refusal = saved === undefined ? undefined : resumeRefusal(saved, identity);
  if (refusal !== undefined) {
    throw new UsageError(`${request.stateFile}: ${refusal}; remove it to import the manifest from its start`);
  }
  const done = new RowsDone((saved as ImportState | undefined)?.done);
  const save = () => writeState(request.stateFile, { version: 1, ...identity, done: done.toJSON() });
  if (!request.dryRun) {
    try {
      save();
    } catch (error) {
      throw new UsageError(
        `${request.stateFile}: cannot write the import state (${(error as Error).message}); choose a file with --state`,
      );
    }
  }
  out.say(
    `import ${request.manifest} (${survey.rows} row(s), ${request.format}) into ${site.id}` +
      (done.count > 0 ? `: resuming, ${done.count} row(s) imported by an earlier run` : "") +
      (request.dryRun ? " (dry run)" : ""),
  );

  const rejects = new RejectReport(request.rejectsFile);
  const walk = (publisher?: RecorderPublisher) =>
    walkRows(request, { rows: survey.rows, done, rejects, publisher, save }, out, stop);
  try {
    if (request.dryRun) return await walk();
    return await withPublisher(site, CALLS_TOPIC, async (publisher, store) => {
      await reach(`site ${site.id}: object store unreachable`, () => store.head("tandem-import-probe"));
      return walk(publisher);
    });
  } finally {
    await rejects.close();
  }
}

async function walkRows(
  request: ImportRequest,
  run: {
    rows: number;
    done: RowsDone;
    rejects: RejectReport;
    publisher?: RecorderPublisher;
    save: () => void;
  },
  out: ImportOutput,
  stop: AbortSignal,
): Promise<ImportOutcome> {
  const { done, rejects, publisher } = run;
  const tally: ImportTally = {
    rows: run.rows,
    skipped: 0,
    imported: 0,
    importable: 0,
    bytes: 0,
    rejected: 0,
    elapsedMs: 0,
  };
  const started = performance.now();
  const firstSeen = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  let processed = 0;
  let failure: unknown;
  let dirty = false;
  const bar = out.progress(run.rows);
  const advance = () => bar.update(++processed, tally.imported);
  const saver = setInterval(() => {
    if (dirty && publisher !== undefined) run.save();
    dirty = false;
  }, SAVE_EVERY_MS);
  const reject = (row: { row: number; line: number }, reason: string, id?: string) => {
    rejects.add({ row: row.row, line: row.line, ...(id === undefined ? {} : { id }), reason });
    tally.rejected++;
    advance();
  };

  try {
    for await (const row of manifestRows(request.manifest, request.format)) {
      if (stop.aborted || failure !== undefined) break;
      const verdict: RowVerdict =
        row.problem === undefined
          ? callOfRow(row.values, request.mapping, {
              site: request.site.id,
              idNamespace: request.idNamespace,
            })
          : { ok: false, reason: row.problem };
      if (!verdict.ok) {
        reject(row, verdict.reason, verdict.id);
        continue;
      }
      const call = verdict.value;
      // The first row of an id is the call; a later one would be dropped by every site as a redelivery.
      const first = firstSeen.get(call.call.callId);
      if (first !== undefined) {
        reject(row, `duplicate of row ${first}: the same call id ${call.call.callId}`, call.archiveId);
        continue;
      }
      firstSeen.set(call.call.callId, row.row);
      if (done.has(row.row)) {
        tally.skipped++;
        advance();
        continue;
      }
      const audio = path.resolve(request.audioDir, call.audioFile);
      const unreadable = audioProblem(audio);
      if (unreadable !== undefined) {
        reject(row, unreadable, call.archiveId);
        continue;
      }
      if (publisher === undefined) {
        tally.importable++;
        advance();
        continue;
      }
      if (inFlight.size >= request.concurrency) await Promise.race(inFlight);
      if (stop.aborted || failure !== undefined) break;
      const published: Promise<void> = publishRow(publisher, call, audio)
        .then(
          (bytes) => {
            done.add(row.row);
            dirty = true;
            tally.imported++;
            tally.bytes += bytes;
            advance();
          },
          (error: unknown) => {
            failure ??= error;
          },
        )
        .finally(() => inFlight.delete(published));
      inFlight.add(published);
    }
  } finally {
    // What is in flight completes (or fails) before the state is saved: a stop never loses a row done.
    await Promise.all(inFlight);
    clearInterval(saver);
    if (publisher !== undefined) run.save();
    bar.stop();
  }
  tally.elapsedMs = performance.now() - started;
  if (failure !== undefined) {
    const message = failure instanceof Error ? failure.message : String(failure);
    throw new Error(
      `site ${request.site.id}: ${message}; ${tally.imported} call(s) imported before it, the rows done saved in ` +
        `${request.stateFile}: run the same command again to resume`,
    );
  }
  return {
    ...tally,
    firstRejects: rejects.first,
    interrupted: stop.aborted && processed < run.rows,
  };
}

async function publishRow(publisher: RecorderPublisher, row: ImportCall, audio: string): Promise<number> {
  const event = await publisher.publishCallCompleted(row.call, {
    ...row.format,
    body: fs.createReadStream(audio),
  });
  return event.audio!.sizeBytes;
}

function audioProblem(file: string): string | undefined {
  try {
    if (!fs.statSync(file).isFile()) return `audio ${file}: not a file`;
    fs.accessSync(file, fs.constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? `audio ${file}: no such file` : `audio ${file}: cannot read (${code})`;
  }
}

/**
 * The rejected rows of this run, one JSON object per line, written as they are found; a report left by
 * an earlier run is removed first (its rows are read again by this one, unless they were imported).
 */
class RejectReport {
  readonly first: Reject[] = [];
  private stream: fs.WriteStream | undefined;

  constructor(private readonly file: string) {
    fs.rmSync(file, { force: true });
  }

  add(reject: Reject): void {
    if (this.first.length < SHOWN_REJECTS) this.first.push(reject);
    this.stream ??= fs.createWriteStream(this.file);
    this.stream.write(`${JSON.stringify(reject)}\n`);
  }

  async close(): Promise<void> {
    const stream = this.stream;
    if (stream !== undefined) await new Promise<void>((resolve) => stream.end(resolve));
  }
}
