/**
 * Tandem's bridge against Apache Kafka's MirrorMaker 2, side by side on one machine: both mirror the same
 * records (1 KiB values, Tandem headers, 3 partitions) from site `src` to site `dst` of a local stack.
 *
 *   npx tsx bench/bridge-vs-mm2.ts [--records 200000] [--live-records 10000] [--live-rate 1000]
 *                                  [--wan rtt=80ms,bandwidth=100mbit] [--bridge-instances 1]
 *                                  [--bridge-consumers 1,3] [--mm2-tasks 1,3|none] [--fetch-bytes 1048576]
 *                                  [--profile] [--keep]
 *
 * Per mirror: both clusters are emptied, N records are written at `src` before the mirror starts, and the
 * backlog catch-up is timed from the first to the last record visible at `dst`; then, the mirror idle and
 * caught up, records are written at a steady rate while it runs, and end-to-end latency is arrival at `dst`
 * minus the record's timestamp. Peak memory is the mirror process's VmHWM.
 *
 * With `--wan`, the stack puts Toxiproxy between the sites and both mirrors run at `dst`, reaching `src`'s
 * Kafka through the proxy, as they would across an ocean. Each `--bridge-instances` count runs that many
 * bridge processes sharing the link, once per `--bridge-consumers` count (`tuning.bridge.consumersPerLink`:
 * consumers of the link in each process); each `--mm2-tasks` count runs MirrorMaker 2 with that `tasks.max`.
 * `--fetch-bytes` sets the bridge's `tuning.bridge.fetchBytesPerPartition`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { Admin, Kafka, Producer } from "kafkajs";
import { remoteTopic } from "@tandem/replication";
import { CALLS_TOPIC, EventCodec, USERS_TOPIC, parseWireFormat } from "@tandem/events";
import { createKafka } from "@tandem/kafka";
import { createLogger } from "@tandem/runtime";
import { versions, wanLayoutOf } from "@tandem/stack";
import { continuousLink, localTopology, writeTopologyFile } from "../services/cli/src/local-topology";
import { resolveMirrorMakerClasspath } from "./mm2/artifacts";
import { benchStack, createTopic, emptyCluster, produceBacklog, producePaced } from "./mm2/clusters";
import { newestProfile, summarizeProfile } from "./mm2/cpu-profile";
import { LatencyProbe, endOffsetSum, percentile, waitForRecords } from "./mm2/measure";
import { javaRuntime, startMirrorMaker, startTandemBridge, type MirrorProcess } from "./mm2/mirrors";
import { ProcessSampler, type ProcessStats } from "./mm2/proc-stats";
import { VALUE_BYTES, benchRecord, payloadBytes } from "./mm2/records";

const { values: args } = parseArgs({
  options: {
    records: { type: "string", default: "200000" },
    "live-records": { type: "string", default: "10000" },
    "live-rate": { type: "string", default: "1000" },
    wan: { type: "string" },
    "bridge-instances": { type: "string", default: "1" },
    "bridge-consumers": { type: "string", default: "1" },
    "mm2-tasks": { type: "string", default: "1" },
    "fetch-bytes": { type: "string" },
    profile: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
  },
});
const counts = (text: string) => (text === "none" ? [] : text.split(",").map((n) => Number(n)));
const bridgeInstances = counts(args["bridge-instances"]);
const bridgeConsumers = counts(args["bridge-consumers"]);
const mm2Tasks = counts(args["mm2-tasks"]);
if ([...bridgeInstances, ...bridgeConsumers, ...mm2Tasks].some((n) => !Number.isInteger(n) || n < 1)) {
  throw new Error(
    "--bridge-instances, --bridge-consumers and --mm2-tasks take whole numbers from 1, e.g. 1,3",
  );
}
const backlogCount = Number(args.records);
const liveCount = Number(args["live-records"]);
const liveRate = Number(args["live-rate"]);

// A WAN stack is another layout: its own directory and ports, so the loopback one is kept as it is.
const DATA_DIR = path.resolve(args.wan === undefined ? ".tandem/bench-mm2" : ".tandem/bench-mm2-wan");
const BASE_PORT = args.wan === undefined ? 27100 : 27400;
const SOURCE = "src";
const TARGET = "dst";
const PARTITIONS = 3;
const TARGET_TOPIC = remoteTopic(SOURCE, CALLS_TOPIC);

interface Result {
  mirror: string;
  startupMs: number;
  catchUpMs: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  liveReceived: number;
  stats: ProcessStats;
  targetRecords: number;
  targetSchemaId: number | undefined;
}

const status = (line: string) => process.stderr.write(`\r${line}`.padEnd(100));
const say = (line: string) => process.stderr.write(`\n${line}\n`);

interface Env {
  sourceKafka: Kafka;
  targetKafka: Kafka;
  sourceAdmin: Admin;
  targetAdmin: Admin;
  producer: Producer;
  schemaId: number;
  recordBytes: number;
}

async function firstSchemaId(kafka: Kafka, topic: string): Promise<number | undefined> {
  const consumer = kafka.consumer({ groupId: `bench-peek-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const id = await new Promise<number | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 15_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        clearTimeout(timer);
        const wire = message.value === null ? undefined : parseWireFormat(message.value);
        resolve(wire?.ok ? wire.schemaId : undefined);
      },
    });
  });
  await consumer.disconnect();
  return id;
}

/** Several processes of one mirror: its peak memory is the largest of theirs, its CPU time their sum. */
class Samplers {
  private readonly samplers: ProcessSampler[];
  constructor(processes: readonly MirrorProcess[]) {
    this.samplers = processes.map((p) => new ProcessSampler(p.pid));
  }
  sample(): ProcessStats {
    return combined(this.samplers.map((s) => s.sample()));
  }
  stop(): ProcessStats {
    return combined(this.samplers.map((s) => s.stop()));
  }
}

function combined(stats: readonly ProcessStats[]): ProcessStats {
  return {
    peakRssBytes: Math.max(...stats.map((s) => s.peakRssBytes)),
    cpuSeconds: stats.reduce((sum, s) => sum + s.cpuSeconds, 0),
  };
}

/** One mirror through both phases; its processes are stopped whatever happens. */
async function runMirror(env: Env, label: string, start: () => MirrorProcess[]): Promise<Result> {
  say(`=== ${label}`);
  status("emptying both clusters");
  await emptyCluster(env.sourceAdmin);
  await emptyCluster(env.targetAdmin);
  await createTopic(env.sourceAdmin, CALLS_TOPIC, PARTITIONS);
  // Created ahead so that the target can be watched from the first record; both mirrors accept it.
  await createTopic(env.targetAdmin, TARGET_TOPIC, PARTITIONS);

  const began = Date.now();
  await produceBacklog({
    producer: env.producer,
    topic: CALLS_TOPIC,
    count: backlogCount,
    record: (i) => benchRecord("backlog", i, SOURCE, env.schemaId),
    onProgress: (done) => status(`backlog at ${SOURCE}: ${done}/${backlogCount} records`),
  });
  say(
    `backlog of ${backlogCount} records written at ${SOURCE} in ${((Date.now() - began) / 1000).toFixed(1)} s`,
  );

  const spawnedAt = Date.now();
  const processes = start();
  const mirror = processes[0]!;
  const sampler = new Samplers(processes);
  let exit: string | undefined;
  for (const process of processes) void process.exited.then((how) => (exit = how));
  const failed = () => (exit === undefined ? undefined : `${label} ended (${exit})`);
  try {
    const catchUp = await waitForRecords({
      admin: env.targetAdmin,
      topic: TARGET_TOPIC,
      expected: backlogCount,
      failed,
      logFile: mirror.logFile,
      onProgress: (count, firstAt) => {
        const rate = firstAt === undefined ? 0 : count / Math.max(0.001, (Date.now() - firstAt) / 1000);
        status(
          `${label} catch-up: ${count}/${backlogCount} at ${TARGET} ` +
            `(${rate.toFixed(0)} records/s, ${(sampler.sample().peakRssBytes / 2 ** 20).toFixed(0)} MiB peak)`,
        );
      },
    });
    const catchUpMs = Math.max(1, catchUp.lastAt - catchUp.firstAt);
    say(`${label} caught up: ${backlogCount} records in ${(catchUpMs / 1000).toFixed(1)} s`);

    // Idle and caught up before the live phase, so the latency is the steady state's.
    await sleep(3000);
    const fromOffsets = (await env.targetAdmin.fetchTopicOffsets(TARGET_TOPIC)).map((p) => ({
      partition: p.partition,
      offset: p.high,
    }));
    const probe = new LatencyProbe(env.targetKafka, TARGET_TOPIC, `bench-probe-${Date.now()}`);
    await probe.start(fromOffsets);
    await producePaced({
      producer: env.producer,
      topic: CALLS_TOPIC,
      count: liveCount,
      ratePerSecond: liveRate,
      record: (i) => benchRecord("live", i, SOURCE, env.schemaId),
      onProgress: (sent) =>
        status(`${label} live: ${sent}/${liveCount} sent, ${probe.latenciesMs.length} arrived`),
    });
    const deadline = Date.now() + 60_000;
    while (probe.latenciesMs.length < liveCount && Date.now() < deadline && failed() === undefined) {
      status(`${label} live: ${liveCount}/${liveCount} sent, ${probe.latenciesMs.length} arrived`);
      await sleep(100);
    }
    await probe.stop();
    const stats = sampler.stop();
    const latencies = probe.latenciesMs;
    say(`${label} live: ${latencies.length}/${liveCount} records arrived at ${liveRate}/s`);
    return {
      mirror: label,
      startupMs: catchUp.firstAt - spawnedAt,
      catchUpMs,
      recordsPerSecond: backlogCount / (catchUpMs / 1000),
      megabytesPerSecond: (backlogCount * env.recordBytes) / 1e6 / (catchUpMs / 1000),
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      latencyMaxMs: latencies.length === 0 ? Number.NaN : Math.max(...latencies),
      liveReceived: latencies.length,
      stats,
      targetRecords: await endOffsetSum(env.targetAdmin, TARGET_TOPIC),
      targetSchemaId: await firstSchemaId(env.targetKafka, TARGET_TOPIC),
    };
  } finally {
    sampler.stop();
    status(`stopping ${label}`);
    const stopped = await Promise.all(processes.map((p) => p.stop()));
    say(`${label} stopped (${stopped.join(", ")})`);
  }
}

function table(results: Result[], schemaId: number): string {
  const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
  const rows: Array<[string, (r: Result) => string]> = [
    ["backlog catch-up records/s (higher is better)", (r) => fmt(r.recordsPerSecond)],
    ["backlog catch-up MB/s (key + value)", (r) => fmt(r.megabytesPerSecond, 1)],
    [`live latency p50 at ${liveRate}/s (ms)`, (r) => fmt(r.latencyP50Ms)],
    [`live latency p99 at ${liveRate}/s (ms)`, (r) => fmt(r.latencyP99Ms)],
    ["live latency max (ms)", (r) => fmt(r.latencyMaxMs)],
    ["peak memory VmHWM (MiB, largest process)", (r) => fmt(r.stats.peakRssBytes / 2 ** 20)],
    ["CPU time of the mirror's processes (s)", (r) => fmt(r.stats.cpuSeconds, 1)],
    ["start to first record at target (s)", (r) => fmt(r.startupMs / 1000, 1)],
    [`records at target (expected ${backlogCount + liveCount})`, (r) => String(r.targetRecords)],
    [`schema id at target (source id ${schemaId})`, (r) => String(r.targetSchemaId ?? "n/a")],
  ];
  return [
    `| | ${results.map((r) => r.mirror).join(" | ")} |`,
    `| --- |${results.map(() => " ---: |").join("")}`,
    ...rows.map(([name, get]) => `| ${name} | ${results.map(get).join(" | ")} |`),
  ].join("\n");
}

async function main(): Promise<void> {
  const logger = createLogger("bench");
  logger.level = "warn";
  const wan = args.wan === undefined ? undefined : wanLayoutOf(args.wan, [], [SOURCE, TARGET]);
  const stack = benchStack(DATA_DIR, [SOURCE, TARGET], BASE_PORT, wan);
  const endpoints = await stack.up();
  const clients: Array<{ disconnect(): Promise<void> }> = [];
  try {
    const [source, target] = endpoints.sites;
    const java = javaRuntime();
    const classpath = resolveMirrorMakerClasspath(path.join(DATA_DIR, "cache"), (m) => say(m));
    const sourceKafka = createKafka(source!.kafka, "tandem-bench", logger);
    const targetKafka = createKafka(target!.kafka, "tandem-bench", logger);
    const sourceAdmin = sourceKafka.admin();
    const targetAdmin = targetKafka.admin();
    const producer = sourceKafka.producer();
    for (const client of [sourceAdmin, targetAdmin, producer]) {
      await client.connect();
      clients.push(client);
    }
    // Values carry the id of the real CallCompleted schema at the source registry, so the bridge translates
    // it; UserChanged registered first at the target makes the target's id differ, so translation shows.
    const schemaId = await new EventCodec({ host: source!.registry.url }).register(CALLS_TOPIC);
    await new EventCodec({ host: target!.registry.url }).register(USERS_TOPIC);
    const env: Env = {
      sourceKafka,
      targetKafka,
      sourceAdmin,
      targetAdmin,
      producer,
      schemaId,
      recordBytes: payloadBytes(benchRecord("backlog", 0, SOURCE, schemaId)),
    };
    /** The bridge's topology with `consumers` consumers of the link per process. */
    const topologyFileFor = (consumers: number) => {
      const file = path.join(DATA_DIR, `bench-topology-${consumers}.yaml`);
      writeTopologyFile(
        file,
        localTopology(endpoints, [continuousLink(SOURCE, TARGET, { streams: ["calls"] })]),
      );
      const fetchBytes =
        args["fetch-bytes"] === undefined
          ? ""
          : `    fetchBytesPerPartition: ${Number(args["fetch-bytes"])}\n`;
      fs.appendFileSync(file, `tuning:\n  bridge:\n    consumersPerLink: ${consumers}\n${fetchBytes}`);
      return file;
    };
    const runDir = path.join(DATA_DIR, "runs", new Date().toISOString().replace(/[:.]/g, "-"));
    const profileDir = path.join(runDir, "cpu-profile");

    // Both mirrors run at the target; across a WAN they reach the source through its proxy.
    const sourceBrokers = source!.reachedFrom?.[TARGET]?.kafka.brokers ?? source!.kafka.brokers;
    const results: Result[] = [];
    for (const consumers of bridgeConsumers) {
      const topologyFile = topologyFileFor(consumers);
      for (const instances of bridgeInstances) {
        const label =
          (instances === 1 ? "Tandem bridge" : `Tandem bridge x${instances}`) +
          (consumers === 1 ? "" : `, ${consumers} consumers`);
        results.push(
          await runMirror(env, label, () =>
            Array.from({ length: instances }, (_, i) =>
              startTandemBridge({
                topologyFile,
                site: TARGET,
                logFile: path.join(runDir, `bridge-${consumers}-${instances}-${i}.log`),
                ...(instances === 1 ? {} : { instance: `bench-${i}` }),
                cpuProfileDir: args.profile && i === 0 ? profileDir : undefined,
              }),
            ),
          ),
        );
      }
    }
    for (const tasksMax of mm2Tasks) {
      results.push(
        await runMirror(env, `MirrorMaker 2, tasks.max=${tasksMax}`, () => [
          startMirrorMaker({
            java: java.java,
            classpath,
            workDir: path.join(runDir, `mm2-${tasksMax}`),
            clusters: { [SOURCE]: sourceBrokers.join(","), [TARGET]: target!.kafka.brokers.join(",") },
            from: SOURCE,
            to: TARGET,
            topic: CALLS_TOPIC,
            tasksMax,
          }),
        ]),
      );
    }

    console.log(
      `\n${backlogCount} backlog + ${liveCount} live records, ${VALUE_BYTES} B values (+36 B keys, 5 Tandem ` +
        `headers), ${PARTITIONS} partitions, ${SOURCE} -> ${TARGET}.${TARGET_TOPIC}`,
    );
    console.log(
      `cores: ${os.availableParallelism()}, Node ${process.version}, ${java.version}, Kafka ${versions.KAFKA_VERSION} ` +
        `(client and MirrorMaker 2), logs in ${runDir}`,
    );
    if (args.wan !== undefined) console.log(`WAN between ${SOURCE} and ${TARGET}: ${args.wan}`);
    console.log(
      "schema id translation: on for Tandem (src and dst have their own registries: the id is rewritten); " +
        "MirrorMaker 2 copies the bytes, source id and all.\n",
    );
    console.log(table(results, schemaId));

    if (args.profile) {
      const file = newestProfile(profileDir);
      if (file === undefined) console.log(`\nno CPU profile found in ${profileDir}`);
      else {
        const summary = summarizeProfile(file);
        console.log(
          `\nTandem bridge CPU profile (${file}), ${(summary.totalMs / 1000).toFixed(1)} s sampled`,
        );
        console.log("self time by module:");
        for (const m of summary.modules)
          console.log(`  ${(m.share * 100).toFixed(1).padStart(5)}%  ${m.name}`);
        console.log("top functions by self time:");
        for (const f of summary.functions)
          console.log(`  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`);
      }
    }
  } finally {
    for (const client of clients) await client.disconnect().catch(() => {});
    if (!args.keep) {
      status("stopping the stack");
      await stack.down();
      say("stack stopped");
    }
  }
}

await main();
