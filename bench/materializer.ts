/**
 * How fast a site's materializer applies a backlog (one site, real servers), side by side:
 *   (a) CallCompleted events without audio: one `calls` row each;
 *   (b) UserChanged events creating users: one `users` row each, through the field-by-field merge.
 *
 *   npx tsx bench/materializer.ts [--calls 20000] [--users 5000] [--keep]
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import {
  CALLS_TOPIC,
  EventCodec,
  HybridLogicalClock,
  USERS_TOPIC,
  buildHeaders,
  type CallCompleted,
} from "@tandem/events";
import { createKafka, ensureSiteTopics, groupLagRecords } from "@tandem/kafka";
import { S3ObjectStore } from "@tandem/object-store";
import { createLogger } from "@tandem/runtime";
import type { SiteEndpoints } from "@tandem/stack";
import { runMaterializer } from "../services/materializer/src";
import { localTopology } from "../services/cli/src/local-topology";
import { CallGenerator, Random, RecorderPublisher, createPopulation } from "../services/recorder/src";
import { freshDatabase } from "../test/support/databases";
import { emptyCluster } from "./mm2/clusters";
import { benchSite, printSideBySide } from "./one-site";

const { values: args } = parseArgs({
  options: {
    calls: { type: "string", default: "20000" },
    users: { type: "string", default: "5000" },
    keep: { type: "boolean", default: false },
  },
});
const callCount = Number(args.calls);
const userCount = Number(args.users);
const TOPICS = [CALLS_TOPIC, USERS_TOPIC];

interface Result {
  events: number;
  rows: number;
  seconds: number;
  cpuSeconds: number;
}

const status = (line: string) => process.stderr.write(`\r${line}`.padEnd(90));

/**
 * Starts a materializer on a fresh database and a new group over the backlog, and times it from its start
 * (migrations and joining the group included) until the group has committed every record; `rows` counts
 * what it wrote.
 */
async function applyBacklog(
  site: SiteEndpoints,
  label: string,
  events: number,
  countRows: (pool: pg.Pool) => Promise<number>,
): Promise<Result> {
  const logger = createLogger("bench-materializer");
  logger.level = "warn";
  const database = await freshDatabase(site);
  const topology = localTopology({ sites: [site] }, []);
  topology.sites[0]!.postgres = { connectionString: database.url };
  const groupId = `bench-materializer-${randomUUID()}`;
  const admin = createKafka(site.kafka, "tandem-bench", logger).admin();
  await admin.connect();
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  try {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const materializer = await runMaterializer({
      topology,
      siteId: site.site,
      logger,
      options: { consumer: { groupId } },
    });
    let seconds: number;
    let cpu: NodeJS.CpuUsage;
    try {
      for (;;) {
        const lag = await groupLagRecords(admin, groupId, TOPICS);
        seconds = (performance.now() - started) / 1000;
        cpu = process.cpuUsage(cpuBefore);
        status(`${label}: ${events - lag} of ${events} applied, ${seconds.toFixed(1)} s`);
        if (lag === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await materializer.stop();
    }
    process.stderr.write("\n");
    return { events, rows: await countRows(pool), seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await pool.end();
    await admin.disconnect();
    await database.drop();
  }
}

async function main(): Promise<void> {
  const logger = createLogger("bench");
  logger.level = "warn";
  const { site, stack } = await benchSite();
  const kafka = createKafka(site.kafka, "tandem-bench", logger);
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const codec = new EventCodec({ host: site.registry.url });
  const store = new S3ObjectStore(site.objectStore);
  const random = new Random("bench-materializer");
  const population = createPopulation(random.fork("population"));

  try {
    // (a) The calls are written straight to the topic (no audio, so no store traffic), 1,000 per request.
    await emptyCluster(admin);
    await ensureSiteTopics(admin);
    const generator = new CallGenerator(random.fork("calls"), population, { recorderIds: ["bench"] });
    for (let start = 0; start < callCount; start += 1000) {
      const batch = Array.from({ length: Math.min(1000, callCount - start) }, (): CallCompleted => ({
        ...generator.next(Date.now()).metadata,
        eventId: randomUUID(),
        originSite: site.site,
        audio: null,
      }));
      const messages = await Promise.all(
        batch.map(async (event) => ({
          key: event.callId,
          value: await codec.encode(CALLS_TOPIC, event),
          headers: buildHeaders({
            eventId: event.eventId,
            origin: site.site,
            tenantId: event.tenantId,
            groupId: event.groupId,
          }),
        })),
      );
      await producer.send({ topic: CALLS_TOPIC, acks: -1, messages });
      status(`(a) backlog: ${start + batch.length} of ${callCount} calls written`);
    }
    process.stderr.write("\n");
    const calls = await applyBacklog(site, "(a) calls", callCount, async (pool) =>
      Number((await pool.query("SELECT count(*) FROM calls")).rows[0].count),
    );

    // (b) Users are published as an application would, through the recorder publisher (it stamps the clock).
    await emptyCluster(admin);
    await ensureSiteTopics(admin);
    const publisher = new RecorderPublisher({
      site: site.site,
      producer,
      codec,
      store,
      clock: new HybridLogicalClock(() => Date.now()),
    });
    const tenant = population.tenants[0]!;
    let published = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (published < userCount) {
          published++;
          await publisher.publishUserChanged({
            userId: random.uuid(),
            tenantId: tenant.id,
            groupId: tenant.groups[0]!.id,
            operation: "UPSERT",
            changes: { name: "Benchmark User", email: "benchmark.user@example.com", active: true },
            baseVersion: {},
          });
          if (published % 500 === 0) status(`(b) backlog: ${published} of ${userCount} users written`);
        }
      }),
    );
    process.stderr.write("\n");
    const users = await applyBacklog(site, "(b) users", userCount, async (pool) =>
      Number((await pool.query("SELECT count(*) FROM users")).rows[0].count),
    );

    const rows: string[][] = [
      ["", "(a) CallCompleted, no audio", "(b) UserChanged, new users"],
      ...[
        ["events in the backlog", (r: Result) => String(r.events)],
        ["rows written", (r: Result) => String(r.rows)],
        ["seconds to apply", (r: Result) => r.seconds.toFixed(1)],
        ["events/s", (r: Result) => (r.events / r.seconds).toFixed(0)],
        ["CPU seconds (this process)", (r: Result) => r.cpuSeconds.toFixed(1)],
      ].map(([name, cell]) => [name as string, ...[calls, users].map(cell as (r: Result) => string)]),
    ];
    printSideBySide(
      "Materializer catch-up, local stack (1 Kafka broker KRaft, Apicurio, PostgreSQL 15)",
      "defaults: 3 partitions per topic, read 3 at a time, one transaction per fetched batch",
      rows,
    );
    const lost = [calls, users].filter((r) => r.rows !== r.events);
    if (lost.length > 0) {
      console.error("rows differ from events: the figures above are not valid");
      process.exitCode = 1;
    }
  } finally {
    await producer.disconnect();
    await admin.disconnect();
    store.close();
    if (!args.keep) {
      await stack.down();
      process.stderr.write("[stack] stopped (--keep leaves it running)\n");
    }
  }
}

await main();
