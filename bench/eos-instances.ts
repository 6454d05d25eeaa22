/**
 * A link's throughput by delivery mode and number of bridge instances: the same backlog forwarded
 * at-least-once and exactly-once by 1, 2 and 3 instances (processes) of the target site's bridge.
 *
 *   npx tsx bench/eos-instances.ts [--records 50000] [--instances 1,2,3] [--keep]
 *
 * Per scenario both clusters are emptied, the instances are started and left to settle in their group
 * (start-up and rebalances are not timed), then the backlog is written at `src` as fast as it goes; the time
 * runs from the first record visible at `dst` until the link's group at `src` has committed every record
 * (exactly-once commits there after each target transaction).
 */
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { LinkConfig } from "@tandem/config";
import { CALLS_TOPIC, EventCodec } from "@tandem/events";
import { createKafka, groupLagRecords } from "@tandem/kafka";
import { bridgeGroupId, remoteTopic } from "@tandem/replication";
import { createLogger } from "@tandem/runtime";
import { continuousLink, localTopology, writeTopologyFile } from "../services/cli/src/local-topology";
import { benchStack, createTopic, emptyCluster, produceBacklog } from "./mm2/clusters";
import { endOffsetSum } from "./mm2/measure";
import { startTandemBridge } from "./mm2/mirrors";
import { benchRecord } from "./mm2/records";
import { printSideBySide } from "./one-site";

const { values: args } = parseArgs({
  options: {
    records: { type: "string", default: "50000" },
    instances: { type: "string", default: "1,2,3" },
    keep: { type: "boolean", default: false },
  },
});
const backlogCount = Number(args.records);
const instanceCounts = args.instances.split(",").map(Number);

const DATA_DIR = path.resolve(".tandem/bench-eos");
const SOURCE = "src";
const TARGET = "dst";
const PARTITIONS = 3;
const TARGET_TOPIC = remoteTopic(SOURCE, CALLS_TOPIC);
const GROUP = bridgeGroupId({ from: SOURCE, to: TARGET });

const status = (line: string) => process.stderr.write(`\r${line}`.padEnd(100));
const say = (line: string) => process.stderr.write(`\n${line}\n`);

async function main(): Promise<void> {
  const logger = createLogger("bench");
  logger.level = "warn";
  const stack = benchStack(DATA_DIR, [SOURCE, TARGET], 27300);
  const endpoints = await stack.up();
  const [source, target] = endpoints.sites;
  const sourceKafka = createKafka(source!.kafka, "tandem-bench", logger);
  const sourceAdmin = sourceKafka.admin();
  const targetAdmin = createKafka(target!.kafka, "tandem-bench", logger).admin();
  const producer = sourceKafka.producer();
  const clients = [sourceAdmin, targetAdmin, producer];
  const runDir = path.join(DATA_DIR, "runs", new Date().toISOString().replace(/[:.]/g, "-"));
  const rows = [["delivery", "instances", "records/s", "seconds", "target end offsets"]];
  try {
    fs.mkdirSync(runDir, { recursive: true });
    for (const client of clients) await client.connect();
    const schemaId = await new EventCodec({ host: source!.registry.url }).register(CALLS_TOPIC);
    for (const delivery of ["at-least-once", "exactly-once"] as const) {
      for (const count of instanceCounts) {
        const label = `${delivery}, ${count} instance${count > 1 ? "s" : ""}`;
        say(`=== ${label}`);
        await emptyCluster(sourceAdmin);
        await emptyCluster(targetAdmin);
        await createTopic(sourceAdmin, CALLS_TOPIC, PARTITIONS);
        const topologyFile = path.join(runDir, `${delivery}.yaml`);
        const link: LinkConfig = continuousLink(SOURCE, TARGET, { streams: ["calls"], delivery });
        writeTopologyFile(topologyFile, localTopology(endpoints, [link]));
        const bridges = Array.from({ length: count }, (_, i) =>
          startTandemBridge({
            topologyFile,
            site: TARGET,
            instance: `bench-${i}`,
            logFile: path.join(runDir, `${delivery}-${count}-${i}.log`),
          }),
        );
        try {
          await settled(count);
          const timing = caughtUp(label);
          await produceBacklog({
            producer,
            topic: CALLS_TOPIC,
            count: backlogCount,
            record: (i) => benchRecord("backlog", i, SOURCE, schemaId),
          });
          const { firstAt, lastAt } = await timing;
          const seconds = Math.max(0.001, (lastAt - firstAt) / 1000);
          rows.push([
            delivery,
            String(count),
            (backlogCount / seconds).toFixed(0),
            seconds.toFixed(1),
            String(await endOffsetSum(targetAdmin, TARGET_TOPIC)),
          ]);
          say(`${label}: ${backlogCount} records in ${seconds.toFixed(1)} s`);
        } finally {
          await Promise.all(bridges.map((b) => b.stop()));
        }
      }
    }
    printSideBySide(
      `${backlogCount} records (1 KiB values), ${PARTITIONS} partitions, ${SOURCE} -> ${TARGET}`,
      "exactly-once end offsets count one transaction marker per batch and partition beside the records",
      rows,
    );
  } finally {
    for (const client of clients) await client.disconnect().catch(() => {});
    if (!args.keep) await stack.down();
  }

  /** Until the link's group at the source is stable with `count` members, each owning partitions. */
  async function settled(count: number): Promise<void> {
    for (;;) {
      const group = await sourceAdmin
        .describeGroups([GROUP])
        .then((g) => g.groups[0])
        .catch(() => undefined);
      const members = group?.members ?? [];
      status(`waiting for ${count} instances in the group: ${members.length} (${group?.state ?? "none"})`);
      if (
        group?.state === "Stable" &&
        members.length === count &&
        members.every((m) => m.memberAssignment.length > 0)
      ) {
        return;
      }
      await sleep(500);
    }
  }

  /** From the first record at the target until the group at the source committed the whole backlog. */
  async function caughtUp(label: string): Promise<{ firstAt: number; lastAt: number }> {
    let firstAt: number | undefined;
    const deadline = Date.now() + 10 * 60_000;
    while (Date.now() < deadline) {
      // A target topic just created (no leader yet), a group coordinator still moving: asked again.
      const seen = await endOffsetSum(targetAdmin, TARGET_TOPIC).catch(() => 0);
      if (seen > 0) firstAt ??= Date.now();
      const written = await endOffsetSum(sourceAdmin, CALLS_TOPIC).catch(() => 0);
      const lag = await groupLagRecords(sourceAdmin, GROUP, [CALLS_TOPIC]).catch(() => backlogCount);
      status(`${label}: ${written - lag}/${backlogCount} committed`);
      // The backlog is still being written while the bridge forwards it: done once all of it is committed.
      if (firstAt !== undefined && written >= backlogCount && lag === 0)
        return { firstAt, lastAt: Date.now() };
      await sleep(100);
    }
    throw new Error(`${label}: not caught up after 10 minutes (logs in ${runDir})`);
  }
}

await main();
