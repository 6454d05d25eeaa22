import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MergePolicy, Topology } from "@tandem/config";
import {
  CALLS_TOPIC,
  DLQ_TOPIC,
  EventCodec,
  HybridLogicalClock,
  USERS_TOPIC,
  buildHeaders,
  type UserChanged,
} from "@tandem/events";
import { ensureSiteTopics, ensureTopics } from "@tandem/kafka";
import { createLogger } from "@tandem/runtime";
import type { SiteEndpoints } from "@tandem/stack";
import {
  listConflicts,
  resolveConflict,
  runMaterializer,
  siteTotals,
  type Materializer,
} from "../../services/materializer/src";
import { migrate } from "../../services/materializer/src/db/migrate";
import { RecorderPublisher, type CallMetadata } from "../../services/recorder/src/publisher";
import { kafkaFor, readTopic, storeFor } from "../support/clients";
import { freshDatabase as freshDatabaseAt } from "../support/databases";
import { stack } from "../support/stack";
import { link as continuousLink } from "../support/topology";
import { until } from "../support/wait";

const testStack = await stack();
const lon = testStack.site("lon");
const nyc = testStack.site("nyc");
const logger = createLogger("materializer-test");
logger.level = "error";

const databases: Array<{ drop: () => Promise<void> }> = [];
const pools: pg.Pool[] = [];

function poolFor(connectionString: string): pg.Pool {
  const pool = new pg.Pool({ connectionString });
  pools.push(pool);
  return pool;
}

/** A new empty database at lon, dropped after the file's tests. */
async function freshDatabase(): Promise<string> {
  const database = await freshDatabaseAt(lon);
  databases.push(database);
  return database.url;
}

function siteConfig(site: SiteEndpoints, connectionString: string, mergePolicy: MergePolicy) {
  return {
    id: site.site,
    kafka: { brokers: site.kafka.brokers },
    registry: { url: site.registry.url },
    postgres: { connectionString },
    objectStore: site.objectStore,
    mergePolicy,
  };
}

function topology(connectionString: string, mergePolicy: MergePolicy = { kind: "lww" }): Topology {
  return {
    sites: [
      siteConfig(lon, connectionString, mergePolicy),
      siteConfig(nyc, "postgres://unused/none", mergePolicy),
    ],
    links: [],
  };
}

const fast = (groupId = `test-materializer-${randomUUID()}`) => ({
  consumer: { groupId, topicRefreshMs: 1000, retryInitialMs: 200, retryMaxMs: 2000 },
  audio: { pollMs: 200, initialBackoffMs: 300, maxBackoffMs: 1000 },
});

const lonKafka = kafkaFor(lon);
const nycKafka = kafkaFor(nyc);
const lonProducer = lonKafka.producer({ idempotent: true, maxInFlightRequests: 1 });
const nycProducer = nycKafka.producer({ idempotent: true, maxInFlightRequests: 1 });
const lonCodec = new EventCodec({ host: lon.registry.url });
const nycCodec = new EventCodec({ host: nyc.registry.url });
const clock = new HybridLogicalClock(() => Date.now());
const lonPublisher = new RecorderPublisher({
  site: "lon",
  producer: lonProducer,
  codec: lonCodec,
  store: storeFor(lon),
  clock,
});
const nycPublisher = new RecorderPublisher({
  site: "nyc",
  producer: nycProducer,
  codec: nycCodec,
  store: storeFor(nyc),
  clock,
});

function callFor(tenantId: string): CallMetadata {
  const startedAtMs = Date.parse("2026-05-04T08:00:00Z");
  return {
    callId: randomUUID(),
    tenantId,
    groupId: randomUUID(),
    participantUserIds: [randomUUID(), randomUUID()],
    recorderId: "rec-7",
    direction: "OUTBOUND",
    caller: { number: "+441234", name: "Ann" },
    callee: { number: "+1212", name: null },
    startedAtMs,
    endedAtMs: startedAtMs + 5000,
    durationMs: 5000,
    attributes: { queue: "sales" },
  };
}

const audioOf = (bytes: Buffer) => ({
  body: Readable.from([bytes]),
  contentType: "audio/wav",
  codec: "pcm_s16le",
  channels: 2,
  sampleRateHz: 16000,
});

/** What a bridge does: the nyc record, re-encoded for lon's registry, into lon's `nyc.<topic>`. */
async function bridgeToLon(topic: string, event: Parameters<EventCodec["encode"]>[1], key: string) {
  const value = await lonCodec.encode(`nyc.${topic}`, event);
  const headers = buildHeaders({
    eventId: event.eventId,
    origin: "nyc",
    path: ["nyc", "lon"],
    tenantId: event.tenantId,
    groupId: event.groupId,
  });
  await lonProducer.send({ topic: `nyc.${topic}`, acks: -1, messages: [{ key, value, headers }] });
}

const running: Materializer[] = [];
async function start(connectionString: string, policy?: MergePolicy, groupId?: string) {
  const materializer = await runMaterializer({
    topology: topology(connectionString, policy),
    siteId: "lon",
    logger,
    metricsPort: 0,
    options: fast(groupId),
  });
  running.push(materializer);
  await materializer.joined;
  return materializer;
}

beforeAll(async () => {
  for (const kafka of [lonKafka, nycKafka]) {
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    await ensureSiteTopics(kafkaAdmin);
    if (kafka === lonKafka) {
      await ensureTopics(kafkaAdmin, [
        { topic: `nyc.${CALLS_TOPIC}`, numPartitions: 3 },
        { topic: `nyc.${USERS_TOPIC}`, numPartitions: 3 },
      ]);
    }
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
});

async function callRows(pool: pg.Pool, tenantId: string) {
  const { rows } = await pool.query(
    `SELECT c.*, t.attempts, t.completed_at IS NOT NULL AS transfer_done FROM calls c
     LEFT JOIN audio_transfers t USING (call_id) WHERE tenant_id = $1 ORDER BY call_id`,
    [tenantId],
  );
  return rows;
}

describe("materializer at lon", () => {
  it("runs its migrations once, even with two instances starting together", async () => {
    const pool = poolFor(await freshDatabase());
    const ran = await Promise.all([migrate(pool), migrate(pool)]);
    expect(ran.flat().sort()).toEqual(["0001_initial.sql", "0002_transfer_outages.sql"]);
    expect(await migrate(pool)).toEqual([]);
    const { rows } = await pool.query("SELECT version FROM schema_migrations ORDER BY version");
    expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
  });

  it("materializes local and remote calls with verified audio, and a redelivered batch changes nothing", async () => {
    const database = await freshDatabase();
    const materializer = await start(database);
    const tenantId = randomUUID();
    const localAudio = Buffer.alloc(200_000, 7);
    const remoteAudio = Buffer.alloc(700_000, 9);
    const local = await lonPublisher.publishCallCompleted(callFor(tenantId), audioOf(localAudio));
    const remote = await nycPublisher.publishCallCompleted(callFor(tenantId), audioOf(remoteAudio));
    await bridgeToLon(CALLS_TOPIC, remote, remote.callId);
    const silent = { ...callFor(tenantId) };
    const noAudio = { ...silent, eventId: randomUUID(), originSite: "nyc", audio: null };
    await bridgeToLon(CALLS_TOPIC, noAudio, noAudio.callId);

    const pool = poolFor(database);
    const rows = await until("three calls with their audio settled", async () => {
      const found = await callRows(pool, tenantId);
      return found.length === 3 && found.every((r) => r.audio_state !== "pending") && found;
    });
    const byId = new Map(rows.map((r) => [r.call_id, r]));
    expect(byId.get(local.callId)).toMatchObject({
      origin_site: "lon",
      audio_state: "present",
      audio_sha256: createHash("sha256").update(localAudio).digest("hex"),
      participant_user_ids: local.participantUserIds,
      caller_name: "Ann",
      attributes: { queue: "sales" },
      source_topic: CALLS_TOPIC,
    });
    expect(byId.get(remote.callId)).toMatchObject({
      origin_site: "nyc",
      audio_state: "present",
      source_topic: `nyc.${CALLS_TOPIC}`,
      audio_size_bytes: remoteAudio.length,
    });
    expect(byId.get(noAudio.callId)).toMatchObject({ audio_state: "none", local_object_key: null });

    // The remote audio was copied into lon's own store, byte for byte.
    const copied = byId.get(remote.callId).local_object_key as string;
    const head = await storeFor(lon).head(copied);
    expect(head?.sha256).toBe(createHash("sha256").update(remoteAudio).digest("hex"));

    // A second materializer with a new group reads every record again into the same database.
    const { rows: before } = await pool.query("SELECT * FROM calls WHERE tenant_id = $1 ORDER BY call_id", [
      tenantId,
    ]);
    const second = await start(database);
    await until("the second group to catch up", async () => {
      const response = await fetch(`http://127.0.0.1:${second.metricsPort}/metrics`);
      const text = await response.text();
      return /tandem_materializer_events_applied_total\{[^}]*topic="nyc.calls.completed"/.test(text);
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const { rows: after } = await pool.query("SELECT * FROM calls WHERE tenant_id = $1 ORDER BY call_id", [
      tenantId,
    ]);
    expect(after).toEqual(before);
    const health = await fetch(`http://127.0.0.1:${materializer.metricsPort}/healthz`);
    expect(health.status).toBe(200);
  });

  it("copies a remote call's audio only inside the calls window of the link that brings it", async () => {
    const database = await freshDatabase();
    let now = new Date("2026-11-25T12:00:00Z");
    const nightly = {
      ...topology(database),
      links: [
        continuousLink("nyc", "lon", {
          schedules: {
            calls: { kind: "windows", timeZone: "UTC", windows: [{ start: "22:00", end: "06:00" }] },
          },
        }),
      ],
    } satisfies Topology;
    const materializer = await runMaterializer({
      topology: nightly,
      siteId: "lon",
      logger,
      options: fast(),
      now: () => now,
    });
    running.push(materializer);
    await materializer.joined;
    const tenantId = randomUUID();
    const local = await lonPublisher.publishCallCompleted(
      callFor(tenantId),
      audioOf(Buffer.alloc(50_000, 3)),
    );
    const remote = await nycPublisher.publishCallCompleted(
      callFor(tenantId),
      audioOf(Buffer.alloc(80_000, 4)),
    );
    await bridgeToLon(CALLS_TOPIC, remote, remote.callId);

    const pool = poolFor(database);
    const state = async () =>
      new Map((await callRows(pool, tenantId)).map((r) => [r.call_id as string, r.audio_state as string]));
    // lon's own audio is no link's: copied at once; nyc's waits, well past the workers' poll interval.
    await until("lon's own audio present", async () => (await state()).get(local.callId) === "present");
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await state()).get(remote.callId)).toBe("pending");

    now = new Date("2026-11-25T22:00:00Z");
    await until(
      "nyc's audio present once the window opens",
      async () => (await state()).get(remote.callId) === "present",
    );
  });

  it("copies the audio of a capped link's calls at the cap (within 10 % over the transfer)", async () => {
    // The earlier tests' materializers (other databases, one bucket) would copy these calls' audio too, unpaced.
    await Promise.all(running.splice(0).map((m) => m.stop()));
    const database = await freshDatabase();
    const capped = {
      ...topology(database),
      links: [
        continuousLink("nyc", "lon", {
          bandwidth: { timeZone: "UTC", bytesPerSecond: 500_000, windows: [] },
        }),
      ],
    } satisfies Topology;
    const tenantId = randomUUID();
    const audioBytes = 250_000;
    const calls = [];
    for (let i = 0; i < 12; i++) {
      const call = await nycPublisher.publishCallCompleted(
        callFor(tenantId),
        audioOf(Buffer.alloc(audioBytes, i)),
      );
      await bridgeToLon(CALLS_TOPIC, call, call.callId);
      calls.push(call);
    }
    // One copy at a time, so that the time between the first and the last completion is all copying.
    const options = fast();
    const materializer = await runMaterializer({
      topology: capped,
      siteId: "lon",
      logger,
      options: { ...options, audio: { ...options.audio, concurrency: 1 } },
    });
    running.push(materializer);
    const pool = poolFor(database);
    const done = await until("every call's audio present", async () => {
      const { rows } = await pool.query<{ completed_at: Date }>(
        `SELECT t.completed_at FROM audio_transfers t JOIN calls c USING (call_id)
         WHERE c.tenant_id = $1 AND c.audio_state = 'present' ORDER BY t.completed_at`,
        [tenantId],
      );
      return rows.length === calls.length && rows.map((r) => r.completed_at.getTime());
    });
    const bytesPerSecond = ((calls.length - 1) * audioBytes) / ((done.at(-1)! - done[0]!) / 1000);
    expect(bytesPerSecond).toBeGreaterThan(500_000 * 0.9);
    expect(bytesPerSecond).toBeLessThan(500_000 * 1.1);
  });

  it("sends a record that cannot be decoded to the DLQ and applies the valid ones around it", async () => {
    const database = await freshDatabase();
    await start(database);
    const tenantId = randomUUID();
    const first = await lonPublisher.publishCallCompleted(callFor(tenantId), audioOf(Buffer.from("a")));
    const badKey = randomUUID();
    await lonProducer.send({
      topic: CALLS_TOPIC,
      acks: -1,
      messages: [{ key: badKey, value: Buffer.from("not avro"), headers: { "x-test": badKey } }],
    });
    const last = await lonPublisher.publishCallCompleted(callFor(tenantId), audioOf(Buffer.from("b")));
    const pool = poolFor(database);
    const rows = await until("both valid calls", async () => {
      const found = await callRows(pool, tenantId);
      return found.length === 2 && found;
    });
    expect(new Set(rows.map((r) => r.call_id))).toEqual(new Set([first.callId, last.callId]));
    const dead = await readTopic(lon, DLQ_TOPIC, { idleMs: 3000 });
    const ours = dead.find((m) => m.headers?.["x-test"]?.toString() === badKey);
    expect(ours?.value?.toString()).toBe("not avro");
    expect(ours?.headers?.["tandem-dlq-reason"]?.toString()).toMatch(/no-magic-byte/);
    expect(ours?.headers?.["tandem-dlq-source-topic"]?.toString()).toBe(CALLS_TOPIC);
  });

  describe.each([
    ["lww", { kind: "lww" }, "from nyc"],
    ["priority", { kind: "priority", siteOrder: ["lon", "nyc"] }, "from lon"],
    ["manual", { kind: "manual" }, "from nyc"],
  ] satisfies Array<[string, MergePolicy, string]>)(
    "concurrent user edits under %s",
    (name, policy, visible) => {
      it(`shows ${visible}, keeps edits of other fields, and records the conflict`, async () => {
        const database = await freshDatabase();
        await start(database, policy);
        const userId = randomUUID();
        const tenantId = randomUUID();
        const groupId = randomUUID();
        const base = await lonPublisher.publishUserChanged({
          userId,
          tenantId,
          groupId,
          operation: "UPSERT",
          changes: { name: "base", email: "base@example.com", role: "agent" },
          baseVersion: {},
        });
        const seen = { lon: base.hlc };
        await lonPublisher.publishUserChanged({
          userId,
          tenantId,
          groupId,
          operation: "UPSERT",
          changes: { name: "from lon", role: "supervisor" },
          baseVersion: seen,
        });
        // The nyc edit is concurrent (it saw only the base) and its clock is later.
        const nycEdit: UserChanged = {
          eventId: randomUUID(),
          userId,
          tenantId,
          groupId,
          operation: "UPSERT",
          changedFields: ["name", "email"],
          fields: { name: "from nyc", email: "nyc@example.com", extensions: null, role: null, active: null },
          hlc: { wallTimeMs: Date.now() + 60_000, logical: 0 },
          baseVersion: seen,
          originSite: "nyc",
        };
        await bridgeToLon(USERS_TOPIC, nycEdit, userId);

        const pool = poolFor(database);
        const user = await until("the merged user", async () => {
          const { rows } = await pool.query("SELECT * FROM users WHERE user_id = $1", [userId]);
          const row = rows[0];
          return row?.email === "nyc@example.com" && row?.role === "supervisor" && row;
        });
        expect(user.name).toBe(visible);
        const conflicts = await pool.query(
          "SELECT field, status, siblings FROM conflicts WHERE user_id = $1",
          [userId],
        );
        expect(conflicts.rows.map((r) => [r.field, r.status, r.siblings.length])).toEqual([
          ["name", name === "manual" ? "open" : "resolved-by-policy", 2],
        ]);
        if (name === "manual") {
          const mine = async () => (await listConflicts(pool)).filter((c) => c.userId === userId);
          expect((await mine()).map((c) => c.field)).toEqual(["name"]);
          await resolveConflict({
            pool,
            producer: lonProducer,
            codec: lonCodec,
            clock,
            site: "lon",
            userId,
            choice: { field: "name", value: "decided" },
          });
          await until("the resolution applied", async () => {
            const { rows } = await pool.query("SELECT name FROM users WHERE user_id = $1", [userId]);
            return rows[0]?.name === "decided";
          });
          expect(await mine()).toEqual([]);
        }
      });
    },
  );
});

describe("a site's totals", () => {
  it("give open conflicts a digest that changes when one is resolved while another opens", async () => {
    const pool = poolFor(await freshDatabase());
    await migrate(pool);
    const [first, second] = [randomUUID(), randomUUID()];
    for (const userId of [first, second]) {
      await pool.query(
        `INSERT INTO users (user_id, tenant_id, group_id, deleted, version, state)
         VALUES ($1, $2, $2, false, '{}', '{}')`,
        [userId, randomUUID()],
      );
    }
    const open = (userId: string, siblings: string[]) =>
      pool.query(
        `INSERT INTO conflicts (user_id, field, siblings, winner, status) VALUES ($1, 'name', $2, '"x"', 'open')
         ON CONFLICT (user_id, field) DO UPDATE SET siblings = excluded.siblings`,
        [userId, JSON.stringify(siblings)],
      );
    await open(first, ["a", "b"]);
    const before = await siteTotals(pool);
    expect(before.openConflicts).toBe(1);
    expect((await siteTotals(pool)).openConflictsDigest).toBe(before.openConflictsDigest);

    // The first is resolved and the second opens between two samples: the count is the same, the queue is not.
    await pool.query("DELETE FROM conflicts WHERE user_id = $1", [first]);
    await open(second, ["a", "b"]);
    const swapped = await siteTotals(pool);
    expect(swapped.openConflicts).toBe(1);
    expect(swapped.openConflictsDigest).not.toBe(before.openConflictsDigest);

    // A third concurrent edit adds a side to the open conflict.
    await open(second, ["a", "b", "c"]);
    expect((await siteTotals(pool)).openConflictsDigest).not.toBe(swapped.openConflictsDigest);
  });
});
