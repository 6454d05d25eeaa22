/**
 * Tandem across a WAN: calls recorded at nyc reaching lon through Toxiproxy (`tandem stack up --wan`), side
 * by side with the floor the link allows.
 *
 *   npx tsx bench/wan.ts [--wan rtt=80ms,jitter=5ms,bandwidth=100mbit] [--rates 5,20] [--seconds 60]
 *                        [--audio-kb 200] [--outage-minutes 10] [--outage-rate 5] [--audio-concurrency 8]
 *                        [--warm-up-seconds 10] [--cut-mode refuse|blackhole] [--keep]
 *
 * Setup: a two-site stack (nyc, lon) in `.tandem/bench-wan`, ports 27500 up, with the WAN profile between
 * the sites; the link nyc -> lon; lon's bridge and materializer as operators run them (`tandem run --site
 * lon`, a process of its own, which reaches nyc's Kafka, registry and object store through the proxies).
 *
 * - **End to end**: for each rate, calls with `--audio-kb` of audio each are recorded at nyc for
 *   `--seconds` (the recorder publisher: audio into nyc's store, then the event); a call's latency is from
 *   its event acknowledged at nyc until lon's database holds its row with the audio copied and verified
 *   (the transfer's completion time in lon's PostgreSQL, on the same clock). Floor: one round trip plus the
 *   audio's transfer time at the bandwidth. Before the first rate, `--warm-up-seconds` of calls at that rate
 *   are recorded and not measured: lon's services are slow for their first seconds of traffic.
 * - **Drain**: the pair nyc-lon is cut (`--cut-mode`: connections refused, or a black hole that swallows
 *   everything on open connections) for `--outage-minutes` while calls are recorded at
 *   `--outage-rate`; then healed. Time from the heal until lon holds every call with its audio, against the
 *   bandwidth floor (the bytes that must cross / the bandwidth).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import YAML from "yaml";
import { DEFAULT_TUNING } from "@tandem/config";
import { createLogger } from "@tandem/runtime";
import {
  CUT_MODES,
  LocalStack,
  wanLayoutOf,
  type CutMode,
  type SiteEndpoints,
  type WanProfile,
} from "@tandem/stack";
import { continuousLink, localTopology, writeTopologyFile } from "../services/cli/src/local-topology";
import type { RecorderPublisher } from "../services/recorder/src";
import {
  CODEC_NAMES,
  CallGenerator,
  Random,
  WAV_CONTENT_TYPE,
  createPopulation,
  sampleCount,
  wavHeader,
  type AudioFormat,
} from "../services/recorder/src";
import { percentile } from "./mm2/measure";
import { benchPublisher, printSideBySide } from "./one-site";
import { TANDEM } from "../test/support/processes";

const { values: args } = parseArgs({
  options: {
    wan: { type: "string", default: "rtt=80ms,jitter=5ms,bandwidth=100mbit" },
    rates: { type: "string", default: "5,20" },
    seconds: { type: "string", default: "60" },
    "audio-kb": { type: "string", default: "200" },
    "outage-minutes": { type: "string", default: "10" },
    "outage-rate": { type: "string", default: "5" },
    "audio-concurrency": { type: "string", default: String(DEFAULT_TUNING.audio.concurrency) },
    "warm-up-seconds": { type: "string", default: "10" },
    "cut-mode": { type: "string", default: "refuse" },
    keep: { type: "boolean", default: false },
  },
});
const rates = args.rates.split(",").map(Number);
const runSeconds = Number(args.seconds);
const audioKb = Number(args["audio-kb"]);
const outageMs = Number(args["outage-minutes"]) * 60_000;
const outageRate = Number(args["outage-rate"]);
const audioConcurrency = Number(args["audio-concurrency"]);
const warmUpSeconds = Number(args["warm-up-seconds"]);
const cutMode = args["cut-mode"] as CutMode;
if (!CUT_MODES.includes(cutMode)) throw new Error(`--cut-mode is one of ${CUT_MODES.join(", ")}`);
if (
  rates.some((r) => !(r > 0)) ||
  !(runSeconds > 0) ||
  !(audioKb > 0) ||
  !(outageMs > 0) ||
  !(outageRate > 0) ||
  !Number.isInteger(audioConcurrency) ||
  !(audioConcurrency > 0) ||
  !(warmUpSeconds >= 0)
) {
  throw new Error(
    "--rates, --seconds, --audio-kb, --outage-minutes, --outage-rate and --audio-concurrency must be positive, " +
      "--warm-up-seconds at least 0",
  );
}

// The benchmark's own clients log warnings only; lon's services log as operators run them.
process.env.TANDEM_LOG_LEVEL ??= "warn";

const DATA_DIR = path.resolve(".tandem/bench-wan");
const BASE_PORT = 27500;
const ORIGIN = "nyc";
const TARGET = "lon";
const SITES = [ORIGIN, TARGET];
/** G.711 mu-law, 8 kHz mono: 8 kB per second, so `--audio-kb` sets the calls' duration. */
const FORMAT: AudioFormat = { encoding: "mulaw", sampleRateHz: 8000 };
const CALL_MS = (audioKb * 1000 * 1000) / FORMAT.sampleRateHz;
const SETTLE_TIMEOUT_MS = 60 * 60_000;
const UNDEFINED_TABLE = "42P01";

const status = (line: string) => process.stderr.write(`\r${line}`.padEnd(110));
const say = (line: string) => process.stderr.write(`\n${line}\n`);

/** Calls recorded at the origin, each with its own audio bytes; the time its event was acknowledged. */
class Recorder {
  private readonly samples = sampleCount(FORMAT, CALL_MS);
  private readonly header = wavHeader(FORMAT, this.samples);
  private readonly generator: CallGenerator;
  readonly acknowledgedAt = new Map<string, number>();
  audioBytes = 0;

  private constructor(
    private readonly publisher: RecorderPublisher,
    readonly close: () => Promise<void>,
  ) {
    const random = new Random(`bench-wan-${Date.now()}`);
    this.generator = new CallGenerator(random.fork("calls"), createPopulation(random.fork("population")), {
      minCallSeconds: CALL_MS / 1000,
      maxCallSeconds: CALL_MS / 1000,
      recorderIds: ["bench-wan"],
    });
  }

  static async at(site: SiteEndpoints): Promise<Recorder> {
    const { publisher, close } = await benchPublisher(site, createLogger("bench-wan"));
    return new Recorder(publisher, close);
  }

  /** Records calls at `rate` per second for `durationMs`, each started on its own tick. */
  async record(rate: number, durationMs: number, label: string): Promise<string[]> {
    const ids: string[] = [];
    const inFlight = new Set<Promise<void>>();
    const started = performance.now();
    for (let i = 0; performance.now() - started < durationMs; i++) {
      await sleep(Math.max(0, started + (i * 1000) / rate - performance.now()));
      const metadata = this.generator.next(Date.now()).metadata;
      const body = Buffer.concat([this.header, randomBytes(this.samples)]);
      const call = this.publisher
        .publishCallCompleted(metadata, {
          body: Readable.from([body]),
          contentType: WAV_CONTENT_TYPE,
          codec: CODEC_NAMES[FORMAT.encoding],
          channels: 1,
          sampleRateHz: FORMAT.sampleRateHz,
        })
        .then((published) => {
          this.acknowledgedAt.set(published.callId, Date.now());
          this.audioBytes += body.length;
          ids.push(published.callId);
          status(`${label}: ${ids.length} calls recorded at ${ORIGIN}`);
        });
      inFlight.add(call);
      void call.finally(() => inFlight.delete(call));
    }
    await Promise.all(inFlight);
    return ids;
  }
}

/** When a call reached the target, in ms since the epoch: its row, then its audio copied and verified. */
interface Arrival {
  rowAt: number;
  audioAt: number;
}

/** The calls whose audio is present at the target, with when their row and their audio arrived. */
async function presentAt(db: pg.Client, ids: readonly string[]): Promise<Map<string, Arrival>> {
  const { rows } = await db.query<{ call_id: string; row_at: string; audio_at: string }>(
    `SELECT t.call_id, (extract(epoch FROM c.first_seen_at) * 1000)::bigint AS row_at,
            (extract(epoch FROM t.completed_at) * 1000)::bigint AS audio_at
       FROM audio_transfers t JOIN calls c ON c.call_id = t.call_id
      WHERE c.audio_state = 'present' AND t.call_id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(
    rows.map((row) => [row.call_id, { rowAt: Number(row.row_at), audioAt: Number(row.audio_at) }]),
  );
}

async function waitForAll(
  db: pg.Client,
  ids: readonly string[],
  label: string,
): Promise<Map<string, Arrival>> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    // Until lon's materializer has migrated its database, nothing is there yet.
    const present = await presentAt(db, ids).catch((error: { code?: string }) => {
      if (error.code === UNDEFINED_TABLE) return new Map<string, Arrival>();
      throw error;
    });
    status(`${label}: ${present.size} of ${ids.length} calls with audio at ${TARGET}`);
    if (present.size === ids.length) return present;
    if (Date.now() > deadline) throw new Error(`${label}: ${ids.length - present.size} calls never arrived`);
    await sleep(100);
  }
}

function startTargetServices(topologyFile: string, logFile: string) {
  const log = fs.openSync(logFile, "w");
  const child = spawn(process.execPath, [...TANDEM, "run", "--config", topologyFile, "--site", TARGET], {
    stdio: ["ignore", log, log],
    env: { ...process.env, TANDEM_LOG_LEVEL: "info" },
  });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const floorMs = (profile: WanProfile, bytes: number) => profile.rttMs + (bytes * 8) / profile.bandwidthKbit;
const fmt = (value: number, digits = 0) => value.toFixed(digits);

async function main(): Promise<void> {
  const wan = wanLayoutOf(args.wan, [], SITES);
  const stack = new LocalStack({
    dataDir: DATA_DIR,
    sites: SITES,
    basePort: BASE_PORT,
    wan,
    progress: (message) => process.stderr.write(`[stack] ${message}\n`),
  });
  const endpoints = await stack.up();
  const control = stack.wanControl();
  await control.heal([
    { from: ORIGIN, to: TARGET },
    { from: TARGET, to: ORIGIN },
  ]);
  const [origin, target] = SITES.map((id) => endpoints.sites.find((site) => site.site === id)!);
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const topologyFile = path.join(DATA_DIR, "topology.yaml");
  writeTopologyFile(topologyFile, localTopology(endpoints, [continuousLink(ORIGIN, TARGET)]));
  // The file's tuning section takes durations as text: the one figure changed is appended as YAML.
  fs.appendFileSync(topologyFile, YAML.stringify({ tuning: { audio: { concurrency: audioConcurrency } } }));
  const recorder = await Recorder.at(origin!);
  const services = startTargetServices(topologyFile, path.join(DATA_DIR, "lon-services.log"));
  const db = new pg.Client({ connectionString: target!.postgres.connectionString });
  const rows: string[][] = [["", "calls", "p50 ms", "p99 ms", "max ms", "floor ms", "p99 / floor"]];
  const profile = wan.profile;
  const audioBytesPerCall = audioKb * 1000;
  try {
    // The first call also waits for lon's services to start and migrate: it is not measured.
    const warmUp = await recorder.record(1, 1000, "warm-up");
    for (;;) {
      try {
        await db.connect();
        break;
      } catch {
        await sleep(500);
      }
    }
    await waitForAll(db, warmUp, "warm-up");
    // lon's services are slow for their first seconds of traffic (in one run, events of the first 3 s took up
    // to 352 ms to reach lon's database, later ones at most 121): the steady state is what is measured.
    await waitForAll(db, await recorder.record(rates[0]!, warmUpSeconds * 1000, "warm-up"), "warm-up");

    for (const rate of rates) {
      const label = `end to end at ${rate} calls/s`;
      const ids = await recorder.record(rate, runSeconds * 1000, label);
      const present = await waitForAll(db, ids, label);
      const arrivals = ids.map((id) => ({ ackAt: recorder.acknowledgedAt.get(id)!, ...present.get(id)! }));
      const latencies = arrivals.map(({ ackAt, audioAt }) => audioAt - ackAt);
      const floor = floorMs(profile, audioBytesPerCall);
      rows.push([
        label,
        String(ids.length),
        fmt(percentile(latencies, 50)),
        fmt(percentile(latencies, 99)),
        fmt(Math.max(...latencies)),
        fmt(floor),
        `${fmt(percentile(latencies, 99) / floor, 2)}x`,
      ]);
      // Where the time goes: the event (bridge, then materializer), then the audio (claim, copy, verify).
      const phase = (name: string, spans: number[]) =>
        rows.push([
          `  ${name}`,
          "",
          fmt(percentile(spans, 50)),
          fmt(percentile(spans, 99)),
          fmt(Math.max(...spans)),
          "",
          "",
        ]);
      phase(
        "event: ack at nyc to row at lon",
        arrivals.map(({ ackAt, rowAt }) => rowAt - ackAt),
      );
      phase(
        "audio: row to audio verified",
        arrivals.map(({ rowAt, audioAt }) => audioAt - rowAt),
      );
    }

    const pair = [
      { from: ORIGIN, to: TARGET },
      { from: TARGET, to: ORIGIN },
    ];
    await control.cut(pair, cutMode);
    say(
      `pair ${ORIGIN}-${TARGET} cut (${cutMode}) for ${args["outage-minutes"]} min, recording at ${outageRate} calls/s`,
    );
    const bytesBefore = recorder.audioBytes;
    const outageIds = await recorder.record(outageRate, outageMs, "outage");
    const backlogBytes = recorder.audioBytes - bytesBefore;
    await control.heal(pair);
    const healedAt = Date.now();
    const present = await waitForAll(db, outageIds, "drain");
    const drainedMs = Math.max(...[...present.values()].map(({ audioAt }) => audioAt)) - healedAt;
    const drainFloorMs = (backlogBytes * 8) / profile.bandwidthKbit;
    rows.push([
      `drain after ${args["outage-minutes"]} min cut (${cutMode})`,
      String(outageIds.length),
      "",
      "",
      fmt(drainedMs),
      fmt(drainFloorMs),
      `${fmt(drainedMs / drainFloorMs, 2)}x`,
    ]);
  } finally {
    await db.end().catch(() => {});
    await services.stop();
    await recorder.close();
    if (!args.keep) await stack.down();
  }
  printSideBySide(
    "Tandem across a WAN (nyc -> lon)",
    `WAN ${args.wan}; ${audioKb} kB of audio per call, ${audioConcurrency} copies in flight; end to end: ${runSeconds} s per rate; drain: the ` +
      `backlog of ${args["outage-minutes"]} min at ${outageRate} calls/s, from the heal (the last row's max is the drain time)`,
    rows,
  );
}

await main();
