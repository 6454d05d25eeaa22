/**
 * Tandem's bridge against Apache Kafka's MirrorMaker 2, side by side on one machine: both mirror the same
 * records (1 KiB values, Tandem headers, 3 partitions) from site `src` to site `dst` of a local stack.
 *
 *   npx tsx bench/bridge-vs-mm2.ts [--records 200000] [--live-records 10000] [--live-rate 1000]
 *                                  [--profile] [--keep]
 *
 * Per mirror: both clusters are emptied, N records are written at `src` before the mirror starts, and the
 * backlog catch-up is timed from the first to the last record visible at `dst`; then, the mirror idle and
 * caught up, records are written at a steady rate while it runs, and end-to-end latency is arrival at `dst`
 * minus the record's timestamp. Peak memory is the mirror process's VmHWM.
 */
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { Admin, Kafka, Producer } from "kafkajs";
import { remoteTopic } from "@tandem/replication";
import { CALLS_TOPIC, EventCodec, USERS_TOPIC, parseWireFormat } from "@tandem/events";
import { createKafka } from "@tandem/kafka";
import { createLogger } from "@tandem/runtime";
import { versions } from "@tandem/stack";
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
    profile: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
  },
});
const backlogCount = Number(args.records);
const liveCount = Number(args["live-records"]);
const liveRate = Number(args["live-rate"]);

const DATA_DIR = path.resolve(".tandem/bench-mm2");
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

/** One mirror through both phases; the mirror is stopped whatever happens. */
async function runMirror(env: Env, label: string, start: () => MirrorProcess): Promise<Result> {
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
  const mirror = start();
  const sampler = new ProcessSampler(mirror.pid);
  let exit: string | undefined;
  void mirror.exited.then((how) => (exit = how));
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
    say(`${label} stopped (${await mirror.stop()})`);
  }
}

function table(results: Result[], schemaId: number): string {
  const [tandem, mm2] = results;
  const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
  const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : "n/a");
  const rows: Array<[string, (r: Result) => number, number]> = [
    ["backlog catch-up records/s (higher is better)", (r) => r.recordsPerSecond, 0],
    ["backlog catch-up MB/s (key + value)", (r) => r.megabytesPerSecond, 1],
    [`live latency p50 at ${liveRate}/s (ms)`, (r) => r.latencyP50Ms, 0],
    [`live latency p99 at ${liveRate}/s (ms)`, (r) => r.latencyP99Ms, 0],
    ["live latency max (ms)", (r) => r.latencyMaxMs, 0],
    ["peak memory VmHWM (MiB)", (r) => r.stats.peakRssBytes / 2 ** 20, 0],
    ["CPU time of the mirror process (s)", (r) => r.stats.cpuSeconds, 1],
    ["start to first record at target (s)", (r) => r.startupMs / 1000, 1],
  ];
  const lines = [
    `| | ${tandem?.mirror ?? ""} | ${mm2?.mirror ?? ""} | Tandem / MM2 |`,
    "| --- | ---: | ---: | ---: |",
    ...rows.map(([name, get, digits]) => {
      const a = tandem === undefined ? Number.NaN : get(tandem);
      const b = mm2 === undefined ? Number.NaN : get(mm2);
      return `| ${name} | ${fmt(a, digits)} | ${fmt(b, digits)} | ${ratio(a, b)} |`;
    }),
    `| records at target (expected ${backlogCount + liveCount}) | ${tandem?.targetRecords ?? "n/a"} | ${mm2?.targetRecords ?? "n/a"} | |`,
    `| schema id at target (source id ${schemaId}) | ${tandem?.targetSchemaId ?? "n/a"} | ${mm2?.targetSchemaId ?? "n/a"} | |`,
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const logger = createLogger("bench");
  logger.level = "warn";
  const stack = benchStack(DATA_DIR, [SOURCE, TARGET], 27100);
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
    const topologyFile = path.join(DATA_DIR, "bench-topology.yaml");
    writeTopologyFile(
      topologyFile,
      localTopology(endpoints, [continuousLink(SOURCE, TARGET, { streams: ["calls"] })]),
    );
    const runDir = path.join(DATA_DIR, "runs", new Date().toISOString().replace(/[:.]/g, "-"));
    const profileDir = path.join(runDir, "cpu-profile");

    const results: Result[] = [];
    results.push(
      await runMirror(env, "Tandem bridge", () =>
        startTandemBridge({
          topologyFile,
          site: TARGET,
          logFile: path.join(runDir, "bridge.log"),
          cpuProfileDir: args.profile ? profileDir : undefined,
        }),
      ),
    );
    results.push(
      await runMirror(env, "MirrorMaker 2", () =>
        startMirrorMaker({
          java: java.java,
          classpath,
          workDir: path.join(runDir, "mm2"),
          clusters: { [SOURCE]: source!.kafka.brokers.join(","), [TARGET]: target!.kafka.brokers.join(",") },
          from: SOURCE,
          to: TARGET,
          topic: CALLS_TOPIC,
        }),
      ),
    );

    console.log(
      `\n${backlogCount} backlog + ${liveCount} live records, ${VALUE_BYTES} B values (+36 B keys, 5 Tandem ` +
        `headers), ${PARTITIONS} partitions, ${SOURCE} -> ${TARGET}.${TARGET_TOPIC}`,
    );
    console.log(
      `cores: ${os.availableParallelism()}, Node ${process.version}, ${java.version}, Kafka ${versions.KAFKA_VERSION} ` +
        `(client and MirrorMaker 2), logs in ${runDir}`,
    );
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
