/**
 * `tandem import` of an archive beside the recorder publisher it is built on, on the same calls:
 *   (a) the publisher library in this process: `publishCallCompleted` of each call, its audio streamed
 *       from the archive's file, `--concurrency` calls in flight;
 *   (b) `tandem import` as an operator runs it (a process of its own): the CSV manifest read twice
 *       (counted and hashed, then imported), each row checked, its audio uploaded and its event published,
 *       `--concurrency` rows in flight, the rows done saved for a resume.
 *
 *   npx tsx bench/import.ts [--calls 10000] [--audio-kb 50] [--concurrency 8] [--keep]
 *
 * The one-site stack of the other benchmarks (`.tandem/bench-stack`, ports 27000-27004). The archive
 * (audio files of random bytes, so every object has its own sha256, and the manifest) is written to
 * `.tandem/bench-import/` and removed at the end; each scenario publishes its calls under a tenant of its
 * own, so neither finds the other's objects in the store.
 */
import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { CALLS_TOPIC } from "@tandem/events";
import { createLogger } from "@tandem/runtime";
import { callIdOf } from "../services/cli/src/import/core/ids";
import { siteConfigOf, writeTopologyFile } from "../services/cli/src/local-topology";
import { WAV_CONTENT_TYPE, formatBytes, type CallMetadata } from "../services/recorder/src";
import { benchPublisher, benchSite, printSideBySide } from "./one-site";
import { TANDEM } from "../test/support/processes";

const { values: args } = parseArgs({
  options: {
    calls: { type: "string", default: "10000" },
    "audio-kb": { type: "string", default: "50" },
    concurrency: { type: "string", default: "8" },
    keep: { type: "boolean", default: false },
  },
});
const calls = Number(args.calls);
const audioBytes = Number(args["audio-kb"]) * 1000;
const concurrency = Number(args.concurrency);
const WORK_DIR = path.resolve(".tandem/bench-import");
const FORMAT = { contentType: WAV_CONTENT_TYPE, codec: "pcm_mulaw", channels: 1, sampleRateHz: 8000 };

interface Figures {
  calls: number;
  bytes: number;
  seconds: number;
  note: string;
}

/** One archived call: the manifest's id, its audio file and start. */
const archiveId = (i: number) => `REC-${String(i).padStart(6, "0")}`;
const startOf = (i: number) => Date.UTC(2019, 0, 1) + i * 60_000;

/** The archive: `calls` audio files of random bytes and a CSV manifest naming them. */
function writeArchive(dir: string, tenantId: string, groupId: string): string {
  fs.mkdirSync(path.join(dir, "audio"), { recursive: true });
  const manifest = fs.openSync(path.join(dir, "calls.csv"), "w");
  fs.writeSync(
    manifest,
    "id,audio,tenantId,groupId,recorderId,direction,callerNumber,calleeNumber,startedAt,durationSeconds\n",
  );
  for (let i = 0; i < calls; i++) {
    fs.writeFileSync(path.join(dir, "audio", `${archiveId(i)}.wav`), randomBytes(audioBytes));
    const started = new Date(startOf(i)).toISOString();
    fs.writeSync(
      manifest,
      `${archiveId(i)},audio/${archiveId(i)}.wav,${tenantId},${groupId},pbx-2019,INBOUND,+12125550100,+12125550199,${started},6\n`,
    );
  }
  fs.closeSync(manifest);
  return path.join(dir, "calls.csv");
}

/** (a) The same calls through the publisher library, under another tenant, `concurrency` in flight. */
async function publishWithLibrary(
  site: Awaited<ReturnType<typeof benchSite>>["site"],
  dir: string,
  tenantId: string,
  groupId: string,
): Promise<Figures> {
  const logger = createLogger("bench");
  logger.level = "warn";
  const { publisher, codec, close } = await benchPublisher(site, logger);
  await codec.register(CALLS_TOPIC);
  const call = (i: number): CallMetadata => ({
    callId: callIdOf(archiveId(i), tenantId),
    tenantId,
    groupId,
    participantUserIds: [],
    recorderId: "pbx-2019",
    direction: "INBOUND",
    caller: { number: "+12125550100", name: null },
    callee: { number: "+12125550199", name: null },
    startedAtMs: startOf(i),
    endedAtMs: startOf(i) + 6000,
    durationMs: 6000,
    attributes: {},
  });
  let next = 0;
  let bytes = 0;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < calls; i = next++) {
          const body = fs.createReadStream(path.join(dir, "audio", `${archiveId(i)}.wav`));
          const event = await publisher.publishCallCompleted(call(i), { ...FORMAT, body });
          bytes += event.audio!.sizeBytes;
        }
      }),
    );
  } finally {
    await close();
  }
  return { calls, bytes, seconds: (performance.now() - started) / 1000, note: "in this process" };
}

/** (b) `tandem import` as a process, timed from its start to its exit; its own figure excludes the start. */
function importWithCommand(topologyFile: string, manifest: string, site: string): Figures & { own: string } {
  const started = performance.now();
  const result = spawnSync(
    process.execPath,
    [
      ...TANDEM,
      "import",
      "--config",
      topologyFile,
      "--site",
      site,
      "--manifest",
      manifest,
      ...Object.entries({
        codec: FORMAT.codec,
        channels: FORMAT.channels,
        sampleRateHz: FORMAT.sampleRateHz,
      }).flatMap(([field, value]) => ["--set", `${field}=${value}`]),
      "--concurrency",
      String(concurrency),
    ],
    { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
  );
  const seconds = (performance.now() - started) / 1000;
  const summary = /^imported (\d+) call\(s\), .* in ([\d.]+)s \((.+)\)$/m.exec(result.stdout);
  if (result.status !== 0 || summary === null || Number(summary[1]) !== calls) {
    throw new Error(`tandem import failed (exit ${result.status}):\n${result.stdout}${result.stderr}`);
  }
  return {
    calls,
    bytes: calls * audioBytes,
    seconds,
    note: "a process of its own",
    own: `${summary[3]} over its ${summary[2]} s of rows`,
  };
}

async function main(): Promise<void> {
  const { site, stack } = await benchSite();
  const runDir = path.join(WORK_DIR, new Date().toISOString().replace(/[:.]/g, "-"));
  const topologyFile = path.join(runDir, "topology.yaml");
  try {
    const [libraryTenant, importTenant, groupId] = [randomUUID(), randomUUID(), randomUUID()];
    const writing = performance.now();
    const manifest = writeArchive(runDir, importTenant, groupId);
    process.stderr.write(
      `[bench] archive of ${calls} calls x ${formatBytes(audioBytes)} written in ` +
        `${((performance.now() - writing) / 1000).toFixed(1)} s\n`,
    );
    writeTopologyFile(topologyFile, { sites: [siteConfigOf(site)], links: [] });

    process.stderr.write("[bench] (a) publisher library...\n");
    const library = await publishWithLibrary(site, runDir, libraryTenant, groupId);
    process.stderr.write("[bench] (b) tandem import...\n");
    const imported = importWithCommand(topologyFile, manifest, site.site);

    const column = (f: Figures) => [
      f.note,
      String(f.calls),
      f.seconds.toFixed(1),
      (f.calls / f.seconds).toFixed(1),
      `${formatBytes(f.bytes / f.seconds)}/s`,
    ];
    const [a, b] = [column(library), column(imported)];
    const rows: string[][] = [
      ["", "(a) publisher library", "(b) tandem import"],
      ["runs", a[0]!, b[0]!],
      ["calls", a[1]!, b[1]!],
      ["seconds, start to end", a[2]!, b[2]!],
      ["calls/s", a[3]!, b[3]!],
      ["audio MB/s", a[4]!, b[4]!],
      ["its own figure (rows only)", "", imported.own],
    ];
    printSideBySide(
      `tandem import against the recorder publisher, ${calls} calls x ${formatBytes(audioBytes)} audio, ` +
        `${concurrency} in flight, local stack (1 Kafka broker KRaft, Apicurio, S3Proxy)`,
      "both: audio streamed from the archive's files, uploaded (sha256) then the event (idempotent, acks=all); " +
        "(b) includes Node's start and the manifest's first pass",
      rows,
    );
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
    if (!args.keep) {
      await stack.down();
      process.stderr.write("[stack] stopped (--keep leaves it running)\n");
    }
  }
}

await main();
