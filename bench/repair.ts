/**
 * A site that lost every call (database and audio objects) refilled two ways on one machine, side by side:
 *   (a) `tandem repair --to lon`: the calls nyc holds and lon lacks are republished into lon's log, and
 *       lon's running materializer applies them and copies their audio from nyc's store into lon's;
 *   (b) `tandem replay --site lon --rebuild <url> --store-dir <dir>`: lon's complete log read into another
 *       fresh database, the audio copied from nyc's store into a directory store.
 *
 *   npx tsx bench/repair.ts [--calls 2000] [--audio-kb 200] [--concurrency 8] [--audio-concurrency 2] [--keep]
 *
 * Setup: a two-site local stack (nyc, lon) in `.tandem/bench-repair`, ports 29000-29019, a link nyc -> lon,
 * nyc's and lon's materializers and lon's bridge in this process; N calls with audio recorded at nyc until
 * lon holds them all with audio present. Then lon is emptied: its materializer stops, its database is
 * replaced by an empty one and its audio objects are deleted, while its Kafka cluster keeps the log and
 * the materializer's committed offsets (so the materializer does not read the log again: only a repair, or
 * a rebuild, puts the calls back). The rebuild runs first, so that it reads the log as replication left it,
 * without the records the repair adds.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { DEFAULT_TUNING, type Topology } from "@tandem/config";
import { EventCodec, HybridLogicalClock, audioObjectKey, type CallCompleted } from "@tandem/events";
import { createKafka } from "@tandem/kafka";
import { DirectoryObjectStore, S3ObjectStore, type ObjectStore } from "@tandem/object-store";
import { createLogger, type Logger } from "@tandem/runtime";
import { LocalStack, type SiteEndpoints } from "@tandem/stack";
import { runBridge } from "../services/bridge/src";
import { defaults } from "../services/cli/src/defaults";
import { continuousLink, localTopology, writeTopologyFile } from "../services/cli/src/local-topology";
import { repair, type RepairOutcome } from "../services/cli/src/repair/repair";
import { verifySites } from "@tandem/operations";
import { runMaterializer, type Materializer } from "../services/materializer/src";
import {
  CODEC_NAMES,
  CallGenerator,
  Random,
  RecorderPublisher,
  WAV_CONTENT_TYPE,
  createPopulation,
  sampleCount,
  wavHeader,
  type AudioFormat,
} from "../services/recorder/src";
import { freshDatabase } from "../test/support/databases";
import { emptyCluster } from "./mm2/clusters";
import { printSideBySide } from "./one-site";
import { TANDEM } from "../test/support/processes";

const { values: args } = parseArgs({
  options: {
    calls: { type: "string", default: "2000" },
    "audio-kb": { type: "string", default: "200" },
    concurrency: { type: "string", default: "8" },
    "audio-concurrency": { type: "string", default: String(DEFAULT_TUNING.audio.concurrency) },
    keep: { type: "boolean", default: false },
  },
});
const callCount = Number(args.calls);
const audioKb = Number(args["audio-kb"]);
const concurrency = Number(args.concurrency);
const audioConcurrency = Number(args["audio-concurrency"]);

const DATA_DIR = path.resolve(".tandem/bench-repair");
const BASE_PORT = 29000;
const ORIGIN = "nyc";
const TARGET = "lon";
/** G.711 mu-law, 8 kHz mono: 8 kB per second, so `--audio-kb` sets the calls' duration. */
const FORMAT: AudioFormat = { encoding: "mulaw", sampleRateHz: 8000 };
const CALL_MS = (audioKb * 1000 * 1000) / FORMAT.sampleRateHz;
const SETTLE_TIMEOUT_MS = 30 * 60_000;

const status = (line: string) => process.stderr.write(`\r${line}`.padEnd(100));
const say = (line: string) => process.stderr.write(`\n${line}\n`);
const seconds = (fromMs: number, toMs = performance.now()) => (toMs - fromMs) / 1000;

// Ctrl-C (or SIGTERM): the run stops where it is, the services stop, the databases are dropped and the
// stack is stopped (unless --keep), as at the end of a run; a second Ctrl-C quits at once.
const interrupt = new AbortController();
const onSignal = () => {
  say("interrupted: stopping the services and cleaning up (Ctrl-C again to quit at once)");
  interrupt.abort();
  process.once("SIGINT", () => process.exit(130));
};
process.once("SIGINT", onSignal);
process.once("SIGTERM", onSignal);
const pause = (ms: number) => sleep(ms, undefined, { signal: interrupt.signal });

/** Settles with `work`, or rejects as soon as the run is interrupted (`work` goes on, its outcome ignored). */
function unlessInterrupted<T>(work: Promise<T>): Promise<T> {
  work.catch(() => {});
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error("interrupted"));
    if (interrupt.signal.aborted) return onAbort();
    interrupt.signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => interrupt.signal.removeEventListener("abort", onAbort));
  });
}

/** Runs `action` with up to `width` in flight over `items`. */
async function eachConcurrently<T>(items: readonly T[], width: number, action: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await action(items[next++]!);
    }),
  );
}

/** Records `count` calls at `site`, each with its own `--audio-kb` of mu-law audio, `concurrency` at a time. */
async function recordCalls(site: SiteEndpoints, count: number, logger: Logger): Promise<CallCompleted[]> {
  const kafka = createKafka(site.kafka, "tandem-bench", logger);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const store = new S3ObjectStore(site.objectStore);
  const publisher = new RecorderPublisher({
    site: site.site,
    producer,
    codec: new EventCodec({ host: site.registry.url }),
    store,
    clock: new HybridLogicalClock(() => Date.now()),
  });
  const random = new Random(`bench-repair-${Date.now()}`);
  const generator = new CallGenerator(random.fork("calls"), createPopulation(random.fork("population")), {
    minCallSeconds: CALL_MS / 1000,
    maxCallSeconds: CALL_MS / 1000,
    recorderIds: ["bench-repair"],
  });
  const samples = sampleCount(FORMAT, CALL_MS);
  const header = wavHeader(FORMAT, samples);
  const calls: CallCompleted[] = [];
  const started = performance.now();
  try {
    // Random samples: every call's audio differs (its own sha256), and generating it costs next to nothing.
    await eachConcurrently(
      Array.from({ length: count }, () => generator.next(Date.now()).metadata),
      concurrency,
      async (metadata) => {
        interrupt.signal.throwIfAborted();
        const call = await publisher.publishCallCompleted(metadata, {
          body: Readable.from([Buffer.concat([header, randomBytes(samples)])]),
          contentType: WAV_CONTENT_TYPE,
          codec: CODEC_NAMES[FORMAT.encoding],
          channels: 1,
          sampleRateHz: FORMAT.sampleRateHz,
        });
        calls.push(call);
        status(`recording at ${site.site}: ${calls.length} of ${count} calls with audio`);
      },
    );
  } finally {
    await producer.disconnect();
    store.close();
  }
  say(`${count} calls recorded at ${site.site} in ${seconds(started).toFixed(1)} s`);
  return calls;
}

async function audioCounts(url: string): Promise<{ calls: number; present: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ calls: string; present: string }>(
      "SELECT count(*) AS calls, count(*) FILTER (WHERE audio_state = 'present') AS present FROM calls",
    );
    return { calls: Number(rows[0]!.calls), present: Number(rows[0]!.present) };
  } finally {
    await client.end();
  }
}

/** Waits until every database in `urls` holds `count` calls with their audio present. */
async function waitForCalls(urls: Record<string, string>, count: number): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const counts = await Promise.all(Object.values(urls).map(audioCounts));
    status(
      `waiting: ${Object.keys(urls)
        .map((site, i) => `${site} ${counts[i]!.calls} calls, ${counts[i]!.present} with audio`)
        .join("; ")} (of ${count})`,
    );
    if (counts.every((c) => c.present >= count)) return;
    if (Date.now() > deadline) throw new Error(`not every site holds the ${count} calls with audio`);
    await pause(500);
  }
}

/** How many of `calls` are in `store` with the recorded sha256 of the event. */
async function objectsHeld(store: ObjectStore, calls: readonly CallCompleted[]): Promise<number> {
  let held = 0;
  await eachConcurrently(calls, 16, async (call) => {
    const object = await store.head(audioObjectKey(call.tenantId, call.startedAtMs, call.callId));
    if (object !== undefined && object.sha256 === call.audio?.sha256) held++;
  });
  return held;
}

interface Figures {
  /** Seconds from the start until every call is held with its audio present. */
  restoreSeconds: number;
  /** The phases of `restoreSeconds`, named. */
  phases: Array<[string, number]>;
  /** Seconds from the start until a verify of nyc and lon finds nothing missing. */
  verifyCleanSeconds: number;
  consistent: boolean;
  callsHeld: number;
  objectsHeld: number;
  audioBytes: number;
}

/**
 * (b) `tandem replay --rebuild` as an operator runs it, a process of its own; its phases are timed by the
 * lines it prints. Then a verify of nyc against the rebuilt database, from this process.
 */
async function rebuildFromLog(
  topology: Topology,
  topologyFile: string,
  database: string,
  storeDir: string,
  logFile: string,
): Promise<Omit<Figures, "callsHeld" | "objectsHeld">> {
  const marks: Record<string, number> = {};
  let audioBytes = 0;
  const log = fs.createWriteStream(logFile);
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...TANDEM,
      "replay",
      "--config",
      topologyFile,
      "--site",
      TARGET,
      "--rebuild",
      database,
      "--store-dir",
      storeDir,
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TANDEM_LOG_LEVEL: "warn" } },
  );
  child.stdout.pipe(log, { end: false });
  let pending = "";
  child.stderr.on("data", (chunk: Buffer) => {
    log.write(chunk);
    const lines = (pending + chunk.toString()).split(/[\r\n]/);
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (/record\(s\) to read$/.test(line)) marks.planned ??= performance.now();
      else if (/event\(s\) applied to /.test(line)) marks.applied ??= performance.now();
      const audio = /^audio: \d+ file\(s\) copied into .* \((\d+) bytes\)/.exec(line);
      if (audio !== null) {
        marks.copied ??= performance.now();
        audioBytes = Number(audio[1]);
      }
    }
  });
  const code = await unlessInterrupted(
    new Promise<number | null>((resolve) => child.once("exit", (exitCode) => resolve(exitCode))),
  ).finally(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  });
  const ended = performance.now();
  log.end();
  if (code !== 0) throw new Error(`tandem replay --rebuild exited ${code} (see ${logFile})`);
  const { planned = started, applied = planned, copied = applied } = marks;
  const rebuilt = { ...topology, sites: topology.sites.map((s) => ({ ...s })) };
  rebuilt.sites.find((s) => s.id === TARGET)!.postgres = { connectionString: database };
  const report = await unlessInterrupted(verifySites(rebuilt, [ORIGIN, TARGET], { inFlightGraceMs: 0 }));
  return {
    restoreSeconds: seconds(started, ended),
    phases: [
      ["process start, plan", seconds(started, planned)],
      ["events read and applied", seconds(planned, applied)],
      ["audio copied", seconds(applied, copied)],
    ],
    verifyCleanSeconds: seconds(started),
    consistent: report.consistent,
    audioBytes,
  };
}

/** (a) `repair()` in this process, as `tandem repair --to lon --grace 0` runs it; its phases by its progress. */
async function repairSite(
  topology: Topology,
  calls: readonly CallCompleted[],
  logFile: string,
): Promise<Omit<Figures, "callsHeld" | "objectsHeld">> {
  const marks: Record<string, number> = {};
  const log = fs.createWriteStream(logFile);
  const started = performance.now();
  const outcome: RepairOutcome = await unlessInterrupted(
    repair(
      topology,
      { target: TARGET, dryRun: false, inFlightGraceMs: 0, applyTimeoutMs: SETTLE_TIMEOUT_MS },
      {
        // Every line to the log; the summaries, not the actions listed one by one, to the console too.
        say: (line) => {
          log.write(`${line}\n`);
          if (!line.startsWith("  ")) say(`[repair] ${line}`);
        },
        progress: (total, unit) => {
          marks[`${unit} started`] ??= performance.now();
          return {
            update: (done) => status(`[repair] ${done}/${total} ${unit}, ${seconds(started).toFixed(0)} s`),
            stop: () => (marks[unit] ??= performance.now()),
          };
        },
      },
    ),
  );
  const ended = performance.now();
  log.end();
  const planned = marks["calls published started"] ?? ended;
  const published = marks["calls published"] ?? planned;
  const applied = marks[`calls applied with audio at ${TARGET}`] ?? published;
  return {
    restoreSeconds: seconds(started, applied),
    phases: [
      ["differences read, plan", seconds(started, planned)],
      ["events published", seconds(planned, published)],
      ["then until applied with audio", seconds(published, applied)],
    ],
    verifyCleanSeconds: seconds(started, ended),
    consistent: outcome.consistent && outcome.applied === calls.length,
    audioBytes: calls.reduce((sum, call) => sum + (call.audio?.sizeBytes ?? 0), 0),
  };
}

async function main(): Promise<void> {
  const stack = new LocalStack({
    dataDir: DATA_DIR,
    sites: [ORIGIN, TARGET],
    basePort: BASE_PORT,
    progress: (message) => process.stderr.write(`[stack] ${message}\n`),
  });
  const endpoints = await stack.up();
  const [origin, target] = endpoints.sites as [SiteEndpoints, SiteEndpoints];
  // Undone in reverse order at the end, whatever happens.
  const cleanups: Array<() => Promise<unknown>> = [];
  const runDir = path.join(DATA_DIR, "runs", new Date().toISOString().replace(/[:.]/g, "-"));
  fs.mkdirSync(runDir, { recursive: true });
  // The services' log lines go to a file: the console keeps the progress and the figures.
  const logger = createLogger("bench", fs.createWriteStream(path.join(runDir, "services.log")));
  try {
    for (const site of [origin, target]) {
      const admin = createKafka(site.kafka, "tandem-bench", logger).admin();
      await admin.connect();
      await emptyCluster(admin).finally(() => admin.disconnect());
    }
    const databases = { [ORIGIN]: await freshDatabase(origin), [TARGET]: await freshDatabase(target) };
    cleanups.push(() => databases[ORIGIN]!.drop());
    cleanups.push(() => databases[TARGET]!.drop());
    const topology = localTopology(endpoints, [continuousLink(ORIGIN, TARGET)]);
    const useDatabase = (site: string, url: string) =>
      (topology.sites.find((s) => s.id === site)!.postgres = { connectionString: url });
    useDatabase(ORIGIN, databases[ORIGIN].url);
    useDatabase(TARGET, databases[TARGET].url);
    const startMaterializer = async (site: string): Promise<Materializer> => {
      const materializer = await runMaterializer({
        topology,
        siteId: site,
        logger,
        options: { audio: { concurrency: audioConcurrency } },
      });
      cleanups.push(() => materializer.stop());
      await unlessInterrupted(materializer.joined);
      return materializer;
    };

    say(`=== setup: ${callCount} calls of ${audioKb} kB recorded at ${ORIGIN}, replicated to ${TARGET}`);
    await startMaterializer(ORIGIN);
    let targetMaterializer = await startMaterializer(TARGET);
    const bridge = await runBridge({ topology, logger, selectLinks: (link) => link.to === TARGET });
    cleanups.push(() => bridge.stop());
    await unlessInterrupted(bridge.ready);
    const calls = await recordCalls(origin, callCount, logger);
    const settling = performance.now();
    await waitForCalls({ [ORIGIN]: databases[ORIGIN].url, [TARGET]: databases[TARGET].url }, callCount);
    say(`${TARGET} caught up ${seconds(settling).toFixed(1)} s after the last call was recorded`);
    const verifyStarted = performance.now();
    const baseline = await verifySites(topology, [ORIGIN, TARGET], { inFlightGraceMs: 0 });
    const verifySeconds = seconds(verifyStarted);
    say(
      `verify ${ORIGIN}, ${TARGET}: ${baseline.consistent ? "consistent" : "NOT consistent"} in ${verifySeconds.toFixed(1)} s`,
    );

    say(`=== ${TARGET} emptied: a new empty database, its audio objects deleted; its log is kept`);
    await targetMaterializer.stop();
    const emptied = await freshDatabase(target);
    cleanups.push(() => emptied.drop());
    await databases[TARGET].drop();
    useDatabase(TARGET, emptied.url);
    const targetStore = new S3ObjectStore(target.objectStore);
    cleanups.push(async () => targetStore.close());
    await eachConcurrently(calls, 16, (call) =>
      targetStore.delete(audioObjectKey(call.tenantId, call.startedAtMs, call.callId)),
    );
    say(`${await objectsHeld(targetStore, calls)} of the ${callCount} audio objects left at ${TARGET}`);

    say(`=== (b) tandem replay --site ${TARGET} --rebuild <fresh database> --store-dir <dir>`);
    const topologyFile = path.join(runDir, "topology.yaml");
    writeTopologyFile(topologyFile, topology);
    const rebuiltDatabase = await freshDatabase(target);
    cleanups.push(() => rebuiltDatabase.drop());
    const storeDir = path.join(runDir, "rebuild-store");
    if (!args.keep) cleanups.push(async () => fs.rmSync(storeDir, { recursive: true, force: true }));
    const rebuildLog = path.join(runDir, "rebuild.log");
    const rebuild: Figures = {
      ...(await rebuildFromLog(topology, topologyFile, rebuiltDatabase.url, storeDir, rebuildLog)),
      callsHeld: (await audioCounts(rebuiltDatabase.url)).present,
      objectsHeld: await objectsHeld(new DirectoryObjectStore(storeDir), calls),
    };
    say(`rebuilt in ${rebuild.restoreSeconds.toFixed(1)} s (output in ${rebuildLog})`);

    say(
      `=== (a) tandem repair --to ${TARGET} --grace 0, ${TARGET}'s materializer running on the empty database`,
    );
    targetMaterializer = await startMaterializer(TARGET);
    const repaired: Figures = {
      ...(await repairSite(topology, calls, path.join(runDir, "repair.log"))),
      callsHeld: (await audioCounts(emptied.url)).present,
      objectsHeld: await objectsHeld(targetStore, calls),
    };
    say(`repaired in ${repaired.verifyCleanSeconds.toFixed(1)} s`);

    const results = [repaired, rebuild];
    const megabytes = (bytes: number) => (bytes / 1e6).toFixed(0);
    const cells = (cell: (r: Figures) => string) => results.map(cell);
    const rows: string[][] = [
      ["", `(a) tandem repair --to ${TARGET}`, `(b) tandem replay --rebuild (${TARGET}'s log)`],
      ["calls held with audio present", ...cells((r) => `${r.callsHeld} of ${callCount}`)],
      [
        "audio copied, sha256 verified",
        `${megabytes(repaired.audioBytes)} MB into ${TARGET}'s S3 bucket`,
        `${megabytes(rebuild.audioBytes)} MB into a directory (--store-dir)`,
      ],
      ["objects held, sha256 as recorded", ...cells((r) => `${r.objectsHeld} of ${callCount}`)],
      ["seconds until all held with audio", ...cells((r) => r.restoreSeconds.toFixed(1))],
      ["calls/s", ...cells((r) => (callCount / r.restoreSeconds).toFixed(1))],
      ["audio MB/s", ...cells((r) => (r.audioBytes / 1e6 / r.restoreSeconds).toFixed(1))],
      ...[0, 1, 2].map((i) => [
        `  phase ${i + 1}`,
        ...cells((r) => `${r.phases[i]![0]}: ${r.phases[i]![1].toFixed(1)} s`),
      ]),
      [
        "seconds until verify is clean",
        `${repaired.verifyCleanSeconds.toFixed(1)} (repair's closing verify)`,
        `${rebuild.verifyCleanSeconds.toFixed(1)} (rebuild, then a verify)`,
      ],
      ["verify", ...cells((r) => (r.consistent ? "consistent" : "NOT consistent"))],
      [
        "audio copies in flight",
        `${audioConcurrency} (the materializer's, --audio-concurrency)`,
        `${defaults.replay.audioConcurrency} (tandem replay's, fixed)`,
      ],
    ];
    printSideBySide(
      `${TARGET} refilled with ${callCount} calls of ${audioKb} kB from ${ORIGIN}, local stack (per site: 1 Kafka broker KRaft, Apicurio, PostgreSQL, S3Proxy)`,
      `recorded at ${ORIGIN} with ${concurrency} in flight; a verify of ${ORIGIN} and ${TARGET} alone took ` +
        `${verifySeconds.toFixed(1)} s; repair and ${TARGET}'s materializer run in this process, the rebuild is a ` +
        `tandem process (its time includes Node's start); logs in ${runDir}`,
      rows,
    );
    if (results.some((r) => !r.consistent || r.callsHeld !== callCount || r.objectsHeld !== callCount)) {
      console.error("a site was not refilled completely: the figures above are not valid");
      process.exitCode = 1;
    }
  } catch (error) {
    if (!interrupt.signal.aborted) throw error;
    process.exitCode = 130;
  } finally {
    status("stopping the services");
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    if (!args.keep) {
      status("stopping the stack");
      await stack.down();
      say("stack stopped (--keep leaves it running)");
    }
  }
  if (interrupt.signal.aborted) process.exit(130);
}

await main();
