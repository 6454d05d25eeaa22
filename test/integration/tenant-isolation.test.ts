import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import type { LinkConfig, Topology } from "@tandem/config";
import {
  EventCodec,
  HybridLogicalClock,
  audioObjectKey,
  eventKindForTopic,
  parseHeaders,
  type CallCompleted,
} from "@tandem/events";
import type { SiteEndpoints } from "@tandem/stack";
import { runBridge } from "../../services/bridge/src";
import { runMaterializer, type Materializer } from "../../services/materializer/src";
import { RecorderPublisher, type CallMetadata } from "../../services/recorder/src/publisher";
import { kafkaFor, readTopics, storeFor } from "../support/clients";
import { freshDatabase } from "../support/databases";
import { testLogger } from "../support/logger";
import { stack } from "../support/stack";
import { link, topologyOf } from "../support/topology";
import { until } from "../support/wait";

const test = await stack();
const nyc = test.site("nyc");
const lon = test.site("lon");
const sfo = test.site("sfo");
const dropped: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const drop of dropped) await drop();
});

const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

function callOf(tenantId: string, groupId: string, index: number): CallMetadata {
  const startedAtMs = Date.parse("2026-09-01T08:00:00Z") + index * 60_000;
  return {
    callId: randomUUID(),
    tenantId,
    groupId,
    participantUserIds: [randomUUID()],
    recorderId: "isolation-recorder",
    direction: "OUTBOUND",
    caller: { number: "+12125550199", name: null },
    callee: { number: "+14155550100", name: null },
    startedAtMs,
    endedAtMs: startedAtMs + 2000,
    durationMs: 2000,
    attributes: {},
  };
}

interface Published {
  calls: CallCompleted[];
  audio: Map<string, Buffer>;
  userId: string;
}

/** Calls with audio and one user edit of a tenant, recorded at nyc as a recorder does. */
async function publishTenant(tenantId: string, count: number, seed: number): Promise<Published> {
  const producer = kafkaFor(nyc).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const publisher = new RecorderPublisher({
    site: "nyc",
    producer,
    codec: new EventCodec({ host: nyc.registry.url }),
    store: storeFor(nyc),
    clock: new HybridLogicalClock(() => Date.now()),
  });
  const groupId = randomUUID();
  const audio = new Map<string, Buffer>();
  const calls: CallCompleted[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = Buffer.alloc(20_000 + i * 1000, seed + i);
    const event = await publisher.publishCallCompleted(callOf(tenantId, groupId, i), {
      body: Readable.from([bytes]),
      contentType: "audio/wav",
      codec: "pcm_s16le",
      channels: 1,
      sampleRateHz: 8000,
    });
    calls.push(event);
    audio.set(event.callId, bytes);
  }
  const userId = randomUUID();
  await publisher.publishUserChanged({
    userId,
    tenantId,
    groupId,
    operation: "UPSERT",
    changes: { name: "Grace", email: "grace@example.com" },
  });
  await producer.disconnect();
  return { calls, audio, userId };
}

/**
 * Every trace of each tenant in a site's Kafka, in every topic: by header, by decoding event values, and
 * by the raw bytes of keys, values and headers (tenant and call ids).
 */
async function tracesInKafka(
  site: SiteEndpoints,
  tenants: Array<{ tenantId: string; callIds: string[] }>,
): Promise<Map<string, string[]>> {
  const admin = kafkaFor(site).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => !t.startsWith("__"));
  await admin.disconnect();
  const codec = new EventCodec({ host: site.registry.url });
  const found = new Map(tenants.map((t) => [t.tenantId, [] as string[]]));
  for (const message of await readTopics(site, topics, { idleMs: 3000, timeoutMs: 90_000 })) {
    const { topic } = message;
    const where = `${site.site} ${topic}/${message.partition}@${message.offset}`;
    const headers = parseHeaders(message.headers);
    const decoded =
      eventKindForTopic(topic) === undefined
        ? undefined
        : await codec
            .decode(message.value, { topic, partition: message.partition, offset: message.offset })
            .catch(() => undefined);
    const raw = [
      message.key ?? Buffer.alloc(0),
      message.value ?? Buffer.alloc(0),
      ...Object.values(message.headers ?? {}).flatMap((v) => (v === undefined ? [] : [v].flat())),
    ].map((part) => (typeof part === "string" ? Buffer.from(part) : part));
    for (const { tenantId, callIds } of tenants) {
      const traces = found.get(tenantId)!;
      if (headers.ok && headers.headers.tenantId === tenantId) traces.push(`${where}: tandem-tenant header`);
      if (decoded?.event.tenantId === tenantId) traces.push(`${where}: decoded event`);
      const needles = [tenantId, ...callIds].map((id) => Buffer.from(id));
      if (raw.some((part) => needles.some((needle) => part.includes(needle)))) traces.push(`${where}: bytes`);
    }
  }
  return found;
}

async function objectsUnder(site: SiteEndpoints, prefix: string): Promise<string[]> {
  const { endpoint, region, bucket, accessKeyId, secretAccessKey } = site.objectStore;
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
  });
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (listed.Contents ?? []).map((o) => o.Key ?? "");
  } finally {
    client.destroy();
  }
}

async function materializerAt(
  site: SiteEndpoints,
  topology: Topology,
  databaseUrl: string,
): Promise<{ materializer: Materializer; pool: pg.Pool }> {
  const materializer = await runMaterializer({
    topology,
    siteId: site.site,
    logger: testLogger(`materializer ${site.site}`),
    options: {
      consumer: { groupId: `test-isolation-${randomUUID()}`, topicRefreshMs: 1000 },
      audio: { pollMs: 300, initialBackoffMs: 300, maxBackoffMs: 1000 },
    },
  });
  await materializer.joined;
  return { materializer, pool: new pg.Pool({ connectionString: databaseUrl }) };
}

const rowsOf = async (pool: pg.Pool, sql: string, parameter: unknown) =>
  (await pool.query<{ n: number }>(sql, [parameter])).rows[0]!.n;

describe("tenant isolation through the chain nyc -> lon -> sfo", () => {
  for (const denyingLink of ["lon->sfo", "nyc->lon"] as const) {
    it(`a tenant denied on ${denyingLink} has not one byte at sfo; another tenant arrives whole`, async () => {
      const denied = randomUUID();
      const allowed = randomUUID();
      const deny = { filters: { tenants: { deny: [denied] }, groups: { deny: [] } } };
      const links: LinkConfig[] = [
        link("nyc", "lon", denyingLink === "nyc->lon" ? deny : {}),
        link("lon", "sfo", denyingLink === "lon->sfo" ? deny : {}),
      ];
      const databases = { lon: await freshDatabase(lon), sfo: await freshDatabase(sfo) };
      dropped.push(databases.lon.drop, databases.sfo.drop);
      const base = topologyOf([nyc, lon, sfo], links);
      const topology: Topology = {
        ...base,
        sites: base.sites.map((s) =>
          s.id === "lon" || s.id === "sfo"
            ? { ...s, postgres: { connectionString: databases[s.id].url } }
            : s,
        ),
      };

      const bridge = await runBridge({ topology, logger: testLogger("bridge"), topicRefreshMs: 1000 });
      const atLon = await materializerAt(lon, topology, databases.lon.url);
      const atSfo = await materializerAt(sfo, topology, databases.sfo.url);
      try {
        await bridge.ready;
        const deniedData = await publishTenant(denied, 4, 10);
        const allowedData = await publishTenant(allowed, 4, 50);

        // The allowed tenant arrives at sfo whole: every call, its audio verified, its user.
        await until(
          "the allowed tenant's calls and audio at sfo",
          async () =>
            (await rowsOf(
              atSfo.pool,
              "SELECT count(*)::int AS n FROM calls WHERE tenant_id = $1 AND audio_state = 'present'",
              allowed,
            )) === allowedData.calls.length &&
            (await rowsOf(
              atSfo.pool,
              "SELECT count(*)::int AS n FROM users WHERE tenant_id = $1",
              allowed,
            )) === 1,
          120_000,
        );
        const sfoStore = storeFor(sfo);
        for (const call of allowedData.calls) {
          const key = audioObjectKey(call.tenantId, call.startedAtMs, call.callId);
          expect((await sfoStore.head(key))?.sha256).toBe(sha(allowedData.audio.get(call.callId)!));
        }
        if (denyingLink === "lon->sfo") {
          // The denied tenant did reach lon, so the link had it in hand and filtered it.
          await until(
            "the denied tenant's calls at lon",
            async () =>
              (await rowsOf(
                atLon.pool,
                "SELECT count(*)::int AS n FROM calls WHERE tenant_id = $1",
                denied,
              )) === deniedData.calls.length,
            60_000,
          );
        }

        // Not one byte of the denied tenant at sfo: no record in any topic, no row, no object.
        const callIds = deniedData.calls.map((c) => c.callId);
        const tenants = [
          { tenantId: denied, callIds },
          { tenantId: allowed, callIds: allowedData.calls.map((c) => c.callId) },
        ];
        const atSfoKafka = await tracesInKafka(sfo, tenants);
        expect(atSfoKafka.get(denied)).toEqual([]);
        // The probes can fail: they find the allowed tenant by header, by decoding and by bytes.
        expect(atSfoKafka.get(allowed)!.join("\n")).toMatch(/header[^]*decoded event[^]*bytes/);
        for (const table of ["calls", "users"]) {
          expect(
            await rowsOf(atSfo.pool, `SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, denied),
          ).toBe(0);
        }
        expect(
          await rowsOf(
            atSfo.pool,
            "SELECT count(*)::int AS n FROM audio_transfers WHERE call_id = ANY($1::uuid[])",
            callIds,
          ),
        ).toBe(0);
        expect(await objectsUnder(sfo, `tenants/${denied}/`)).toEqual([]);
        // The filesystem store lists its directories too; the audio objects are the .wav keys.
        const allowedObjects = await objectsUnder(sfo, `tenants/${allowed}/`);
        expect(allowedObjects.filter((key) => key.endsWith(".wav"))).toHaveLength(allowedData.calls.length);
        if (denyingLink === "nyc->lon") {
          expect((await tracesInKafka(lon, tenants)).get(denied)).toEqual([]);
          expect(await objectsUnder(lon, `tenants/${denied}/`)).toEqual([]);
        }
      } finally {
        await bridge.stop();
        await atLon.materializer.stop();
        await atSfo.materializer.stop();
        await atLon.pool.end();
        await atSfo.pool.end();
      }
    });
  }
});
