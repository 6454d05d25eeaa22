import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import pg from "pg";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ObjectStoreConfig, Topology } from "@tandem/config";
import {
  CALLS_TOPIC,
  DLQ_TOPIC,
  EventCodec,
  HybridLogicalClock,
  buildHeaders,
  type CallCompleted,
} from "@tandem/events";
import { ensureSiteTopics, ensureTopics, groupLagRecords } from "@tandem/kafka";
import { DirectoryObjectStore, type ObjectStore } from "@tandem/object-store";
import { topicsAtSite } from "@tandem/replication";
import { createLogger } from "@tandem/runtime";
import type { SiteEndpoints } from "@tandem/stack";
import { audioBacklog, runMaterializer, type Materializer } from "../../services/materializer/src";
import { RecorderPublisher, type CallMetadata } from "../../services/recorder/src/publisher";
import { kafkaFor, readTopic, storeFor } from "../support/clients";
import { freshDatabase as freshDatabaseAt } from "../support/databases";
import { stack } from "../support/stack";
import { until } from "../support/wait";

const testStack = await stack();
const lon = testStack.site("lon");
const nyc = testStack.site("nyc");
const logger = createLogger("materializer-faults-test");
logger.level = "error";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-materializer-"));

const databases: Array<{ drop: () => Promise<void> }> = [];
const pools: pg.Pool[] = [];

/** A new empty database at lon with a pool on it; both go after the file's tests. */
async function freshDatabase(): Promise<{ url: string; pool: pg.Pool }> {
  const database = await freshDatabaseAt(lon);
  databases.push(database);
  const pool = new pg.Pool({ connectionString: database.url });
  pools.push(pool);
  return { url: database.url, pool };
}

function topology(
  connectionString: string,
  stores: { lon?: ObjectStoreConfig; nyc?: ObjectStoreConfig } = {},
): Topology {
  const site = (s: SiteEndpoints, objectStore: ObjectStoreConfig, postgres: string) => ({
    id: s.site,
    kafka: { brokers: s.kafka.brokers },
    registry: { url: s.registry.url },
    postgres: { connectionString: postgres },
    objectStore,
    mergePolicy: { kind: "lww" as const },
  });
  return {
    sites: [
      site(lon, stores.lon ?? lon.objectStore, connectionString),
      site(nyc, stores.nyc ?? nyc.objectStore, "postgres://unused@127.0.0.1:1/none"),
    ],
    links: [],
  };
}

const lonKafka = kafkaFor(lon);
const nycKafka = kafkaFor(nyc);
const lonProducer = lonKafka.producer({ idempotent: true, maxInFlightRequests: 1 });
const nycProducer = nycKafka.producer({ idempotent: true, maxInFlightRequests: 1 });
const lonCodec = new EventCodec({ host: lon.registry.url });
const nycCodec = new EventCodec({ host: nyc.registry.url });
const clock = new HybridLogicalClock(() => Date.now());
const publisherAtNyc = (store: ObjectStore = storeFor(nyc)) =>
  new RecorderPublisher({ site: "nyc", producer: nycProducer, codec: nycCodec, store, clock });

function callFor(tenantId: string): CallMetadata {
  const startedAtMs = Date.parse("2026-07-01T12:00:00Z");
  return {
    callId: randomUUID(),
    tenantId,
    groupId: randomUUID(),
    participantUserIds: [randomUUID()],
    recorderId: "rec-9",
    direction: "INBOUND",
    caller: { number: "+1", name: null },
    callee: { number: "+2", name: null },
    startedAtMs,
    endedAtMs: startedAtMs + 1000,
    durationMs: 1000,
    attributes: {},
  };
}

const audioOf = (bytes: Buffer) => ({
  body: Readable.from([bytes]),
  contentType: "audio/wav",
  codec: "pcm_s16le",
  channels: 1,
  sampleRateHz: 8000,
});
const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** What a bridge does: the event, encoded for lon's registry, into lon's `<origin>.calls.completed`. */
async function bridgeToLon(events: CallCompleted[], origin = "nyc") {
  const topic = `${origin}.${CALLS_TOPIC}`;
  const messages = await Promise.all(
    events.map(async (event) => ({
      key: event.callId,
      value: await lonCodec.encode(topic, event),
      headers: buildHeaders({
        eventId: event.eventId,
        origin,
        path: [origin, "lon"],
        tenantId: event.tenantId,
        groupId: event.groupId,
      }),
    })),
  );
  for (let start = 0; start < messages.length; start += 500) {
    await lonProducer.send({ topic, acks: -1, messages: messages.slice(start, start + 500) });
  }
}

/**
 * The stack's ports are in the kernel's ephemeral range: a client retrying against the stopped port can
 * connect to itself and hold the port in TIME-WAIT for a minute, so the restart is retried.
 */
async function restartLonStore(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await testStack.start("lon", "s3");
      return;
    } catch (error) {
      if (attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
  }
}

const running: Materializer[] = [];
async function start(
  connectionString: string,
  {
    stores,
    maxAttempts = 50,
    groupId = `test-materializer-${randomUUID()}`,
  }: {
    stores?: Parameters<typeof topology>[1];
    maxAttempts?: number;
    groupId?: string;
  } = {},
) {
  const materializer = await runMaterializer({
    topology: topology(connectionString, stores),
    siteId: "lon",
    logger,
    options: {
      consumer: {
        groupId,
        topicRefreshMs: 1000,
        retryInitialMs: 200,
        retryMaxMs: 2000,
      },
      audio: { pollMs: 200, initialBackoffMs: 300, maxBackoffMs: 1000, maxAttempts },
    },
  });
  running.push(materializer);
  await materializer.joined;
  return materializer;
}

/** Records in lon's materialized topics that the group has not committed yet. */
async function groupLag(groupId: string): Promise<number> {
  const admin = lonKafka.admin();
  await admin.connect();
  try {
    return await groupLagRecords(admin, groupId, topicsAtSite(await admin.listTopics(), "lon"));
  } finally {
    await admin.disconnect();
  }
}

async function audioStates(pool: pg.Pool, tenantId: string) {
  const { rows } = await pool.query<{
    call_id: string;
    audio_state: string;
    attempts: number | null;
    last_error: string | null;
  }>(
    `SELECT c.call_id, c.audio_state, t.attempts, t.last_error FROM calls c LEFT JOIN audio_transfers t USING (call_id)
     WHERE c.tenant_id = $1 ORDER BY c.call_id`,
    [tenantId],
  );
  return rows;
}

beforeAll(async () => {
  for (const kafka of [lonKafka, nycKafka]) {
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    await ensureSiteTopics(kafkaAdmin);
    if (kafka === lonKafka)
      await ensureTopics(kafkaAdmin, [{ topic: `nyc.${CALLS_TOPIC}`, numPartitions: 3 }]);
    await kafkaAdmin.disconnect();
  }
  await lonProducer.connect();
  await nycProducer.connect();
});

afterAll(async () => {
  await Promise.all(running.map((m) => m.stop()));
  await lonProducer.disconnect();
  await nycProducer.disconnect();
  await Promise.all(pools.map((pool) => pool.end()));
  for (const database of databases) await database.drop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("materializer faults at lon", () => {
  it("keeps calls visible with audio pending while lon's store is down, spending no retry budget, then copies the audio", async () => {
    const { url, pool } = await freshDatabase();
    const maxAttempts = 3;
    await start(url, { maxAttempts });
    const tenantId = randomUUID();
    const bytes = [Buffer.alloc(100_000, 1), Buffer.alloc(150_000, 2)];
    const published = await Promise.all(
      bytes.map((b) => publisherAtNyc().publishCallCompleted(callFor(tenantId), audioOf(b))),
    );
    const silent = { ...callFor(tenantId), eventId: randomUUID(), originSite: "nyc", audio: null };
    await testStack.stop("lon", "s3");
    try {
      await bridgeToLon([...published, silent]);
      // The store stays down for more attempts than the budget allows: an outage does not spend it.
      const pending = await until(
        "metadata with audio pending after more failed attempts than the budget",
        async () => {
          const rows = await audioStates(pool, tenantId);
          const withAudio = rows.filter((r) => r.audio_state !== "none");
          return (
            rows.length === 3 &&
            withAudio.every((r) => r.audio_state === "pending" && (r.attempts ?? 0) > maxAttempts + 1) &&
            rows
          );
        },
      );
      expect(pending.filter((r) => r.audio_state === "none")).toHaveLength(1);
      expect(pending.find((r) => r.audio_state === "pending")?.last_error).toMatch(/unreachable/);
      // What `tandem status` shows of the site (here of this tenant: the site's topics carry other tests'
      // calls too): the copies waiting, and for how long.
      const waiting = await audioBacklog(pool, [tenantId]);
      expect(waiting.pending).toBe(2);
      expect(waiting.oldestPendingSeconds).toBeGreaterThan(0);
    } finally {
      await restartLonStore();
    }
    await until("audio present after the store is back", async () => {
      const rows = await audioStates(pool, tenantId);
      return rows.filter((r) => r.audio_state === "present").length === 2;
    });
    expect(await audioBacklog(pool, [tenantId])).toEqual({ pending: 0, oldestPendingSeconds: undefined });
    const store = storeFor(lon);
    for (const [index, event] of published.entries()) {
      const { rows } = await pool.query("SELECT local_object_key FROM calls WHERE call_id = $1", [
        event.callId,
      ]);
      expect((await store.head(rows[0].local_object_key))?.sha256).toBe(sha(bytes[index]!));
    }
  });

  it("copies from nyc's S3 into lon's directory store, and from nyc's directory into lon's S3", async () => {
    const lonDir = path.join(tmp, "lon-audio");
    const nycDir = path.join(tmp, "nyc-audio");
    const toDirectory = await freshDatabase();
    await start(toDirectory.url, { stores: { lon: { kind: "directory", path: lonDir } } });
    const toS3 = await freshDatabase();
    await start(toS3.url, { stores: { nyc: { kind: "directory", path: nycDir } } });

    const tenantId = randomUUID();
    const fromS3Bytes = Buffer.alloc(300_000, 3);
    const fromDirBytes = Buffer.alloc(250_000, 4);
    const fromS3 = await publisherAtNyc().publishCallCompleted(callFor(tenantId), audioOf(fromS3Bytes));
    const fromDir = await publisherAtNyc(new DirectoryObjectStore(nycDir)).publishCallCompleted(
      callFor(tenantId),
      audioOf(fromDirBytes),
    );
    await bridgeToLon([fromS3, fromDir]);

    // Each materializer has one source that holds a given call's audio; the other call fails over.
    await until("the S3 call's audio in lon's directory", async () =>
      (await audioStates(toDirectory.pool, tenantId)).some(
        (r) => r.call_id === fromS3.callId && r.audio_state === "present",
      ),
    );
    await until("the directory call's audio in lon's S3", async () =>
      (await audioStates(toS3.pool, tenantId)).some(
        (r) => r.call_id === fromDir.callId && r.audio_state === "present",
      ),
    );
    expect((await new DirectoryObjectStore(lonDir).head(fromS3.audio!.objectKey))?.sha256).toBe(
      sha(fromS3Bytes),
    );
    expect((await storeFor(lon).head(fromDir.audio!.objectKey))?.sha256).toBe(sha(fromDirBytes));
  });

  it("never marks a mismatching or missing copy present: after the retry budget the audio fails to the DLQ", async () => {
    const { url, pool } = await freshDatabase();
    await start(url, { maxAttempts: 2 });
    const tenantId = randomUUID();
    const real = await publisherAtNyc().publishCallCompleted(
      callFor(tenantId),
      audioOf(Buffer.alloc(5000, 5)),
    );
    const mismatching: CallCompleted = {
      ...real,
      eventId: randomUUID(),
      callId: randomUUID(),
      audio: { ...real.audio!, sha256: "f".repeat(64) },
    };
    const missing: CallCompleted = {
      ...real,
      eventId: randomUUID(),
      callId: randomUUID(),
      audio: { ...real.audio!, objectKey: `tenants/${tenantId}/2026/07/01/${randomUUID()}.wav` },
    };
    await bridgeToLon([mismatching, missing]);
    const rows = await until("both audio transfers failed", async () => {
      const found = await audioStates(pool, tenantId);
      return found.length === 2 && found.every((r) => r.audio_state === "failed") && found;
    });
    const byId = new Map(rows.map((r) => [r.call_id, r]));
    expect(byId.get(mismatching.callId)).toMatchObject({ attempts: 2 });
    expect(byId.get(mismatching.callId)?.last_error).toMatch(/checksum-mismatch/);
    expect(byId.get(missing.callId)?.last_error).toMatch(/absent/);
    const localKey = (id: string) => `tenants/${tenantId}/2026/07/01/${id}.wav`;
    expect(await storeFor(lon).head(localKey(mismatching.callId))).toBeUndefined();
    const dead = await readTopic(lon, DLQ_TOPIC, { idleMs: 3000 });
    const ids = dead.map((m) => m.headers?.["tandem-dlq-call-id"]?.toString());
    expect(ids).toContain(mismatching.callId);
    expect(ids).toContain(missing.callId);
  });

  it("a batch retrying when its consumer is replaced is left to the new consumer, which applies it", async () => {
    const { url, pool } = await freshDatabase();
    const groupId = `test-materializer-${randomUUID()}`;
    await start(url, { groupId });
    // The stack's history (other tests' users among it) applied first: only the next user change will fail.
    await until("the group caught up", async () => (await groupLag(groupId)) === 0, 120_000);

    await pool.query("ALTER TABLE users RENAME TO users_hidden");
    const userId = randomUUID();
    const tenantId = randomUUID();
    await new RecorderPublisher({
      site: "lon",
      producer: lonProducer,
      codec: lonCodec,
      store: storeFor(lon),
      clock,
    }).publishUserChanged({
      userId,
      tenantId,
      groupId: randomUUID(),
      operation: "UPSERT",
      changes: { name: "Ada" },
    });
    // Its batch fails and is retried (every 200 ms to 2 s) from now on.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // A site that appears (a bridge creates its remote topic) makes the materializer replace its consumer.
    const admin = lonKafka.admin();
    await admin.connect();
    const newSite = `x${randomUUID().slice(0, 8)}`;
    await ensureTopics(admin, [{ topic: `${newSite}.${CALLS_TOPIC}`, numPartitions: 1 }]);
    await admin.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    await pool.query("ALTER TABLE users_hidden RENAME TO users");

    await until(
      "the user applied",
      async () => {
        const { rows } = await pool.query("SELECT name FROM users WHERE user_id = $1", [userId]);
        return rows[0]?.name === "Ada";
      },
      60_000,
    );
    await until("the new site's topic consumed", async () => (await groupLag(groupId)) === 0, 60_000);
  }, 300_000);

  it("a site's topic that appears while Kafka comes back from an outage is consumed", async () => {
    const { url, pool } = await freshDatabase();
    const groupId = `test-materializer-${randomUUID()}`;
    await start(url, { groupId });
    await until("the group caught up", async () => (await groupLag(groupId)) === 0, 120_000);

    // The consumer crashes while lon's Kafka is down; once it is back, the consumer's group still holds its
    // previous member for a session (30 s), and a new site's topic makes the materializer replace it then.
    await testStack.stop("lon", "kafka");
    await new Promise((resolve) => setTimeout(resolve, 8000));
    await testStack.start("lon", "kafka");
    const newSite = `x${randomUUID().slice(0, 8)}`;
    const admin = lonKafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: `${newSite}.${CALLS_TOPIC}`, numPartitions: 3 }]);
    await admin.disconnect();
    const tenantId = randomUUID();
    const calls = Array.from({ length: 6 }, () => ({
      ...callFor(tenantId),
      eventId: randomUUID(),
      originSite: newSite,
      audio: null,
    }));
    await bridgeToLon(calls, newSite);

    await until(
      "the new site's calls applied",
      async () => {
        const { rows } = await pool.query("SELECT count(*)::int AS n FROM calls WHERE tenant_id = $1", [
          tenantId,
        ]);
        return rows[0].n === calls.length;
      },
      120_000,
    );
    await until("every topic consumed", async () => (await groupLag(groupId)) === 0, 60_000);
  }, 300_000);

  it("loses and doubles nothing when the process is killed mid-batch and restarted", async () => {
    const { url, pool } = await freshDatabase();
    const file = path.join(tmp, "topology.yaml");
    fs.writeFileSync(file, stringify(topology(url)));
    const groupId = `test-materializer-${randomUUID()}`;
    const spawnMaterializer = (): ChildProcess =>
      spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          "services/cli/src/main.ts",
          "run",
          "--config",
          file,
          "--site",
          "lon",
          "--role",
          "materializer",
        ],
        {
          cwd: process.cwd(),
          env: { ...process.env, TANDEM_MATERIALIZER_GROUP: groupId, TANDEM_LOG_LEVEL: "info" },
          stdio: ["ignore", "ignore", fs.openSync(path.join(tmp, "child.log"), "a")],
        },
      );
    const tenantId = randomUUID();
    const withAudio = await Promise.all(
      [0, 1, 2].map((i) =>
        publisherAtNyc().publishCallCompleted(callFor(tenantId), audioOf(Buffer.alloc(20_000, i))),
      ),
    );
    const silent = Array.from({ length: 3000 }, () => ({
      ...callFor(tenantId),
      eventId: randomUUID(),
      originSite: "nyc",
      audio: null,
    }));
    await bridgeToLon([...withAudio, ...silent]);
    const total = withAudio.length + silent.length;
    const count = async () => {
      const { rows } = await pool.query<{ count: string }>(
        "SELECT count(*) FROM calls WHERE tenant_id = $1",
        [tenantId],
      );
      return Number(rows[0]?.count ?? 0);
    };
    // The schema may not exist yet: the child migrates it.
    const safeCount = () => count().catch(() => 0);

    const first = spawnMaterializer();
    const exited = new Promise((resolve) => first.once("exit", resolve));
    try {
      await until("the first rows", async () => (await safeCount()) > 0, 60_000);
    } finally {
      first.kill("SIGKILL");
      await exited;
    }
    const atKill = await count();
    const second = spawnMaterializer();
    try {
      await until("every call", async () => (await count()) === total, 100_000).catch((error: unknown) => {
        process.stderr.write(fs.readFileSync(path.join(tmp, "child.log"), "utf8").slice(-4000));
        throw error;
      });
      // A fresh group replays the stack's whole history first, other tests' audio transfers included.
      await until(
        "audio present",
        async () => {
          const rows = await audioStates(pool, tenantId);
          return rows.filter((r) => r.audio_state === "present").length === withAudio.length;
        },
        180_000,
      );
      // The second process may have nothing left to do; SIGTERM is only meaningful once it runs.
      await until(
        "the second process consuming",
        async () =>
          fs.readFileSync(path.join(tmp, "child.log"), "utf8").split('"msg":"consuming"').length > 2,
        60_000,
      );
    } finally {
      const stopped = new Promise<number | null>((resolve) => second.once("exit", (code) => resolve(code)));
      second.kill("SIGTERM");
      expect(await stopped).toBe(0);
    }
    const { rows } = await pool.query<{ call_id: string }>("SELECT call_id FROM calls WHERE tenant_id = $1", [
      tenantId,
    ]);
    expect(new Set(rows.map((r) => r.call_id))).toEqual(
      new Set([...withAudio, ...silent].map((c) => c.callId)),
    );
    const transfers = await pool.query(
      "SELECT count(*)::int AS n FROM audio_transfers t JOIN calls c USING (call_id) WHERE c.tenant_id = $1",
      [tenantId],
    );
    expect(transfers.rows[0].n).toBe(withAudio.length);
    logger.warn({ atKill, total }, "rows at the kill");
  }, 420_000);
});
