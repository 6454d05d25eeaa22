import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLS_TOPIC, EventCodec, audioObjectKey, buildHeaders, type CallCompleted } from "@tandem/events";
import { ensureSiteTopics } from "@tandem/kafka";
import { createLogger } from "@tandem/runtime";
import type { SiteEndpoints } from "@tandem/stack";
import { runBridge, type RunningBridge } from "../../services/bridge/src";
import { runMaterializer, type Materializer } from "../../services/materializer/src";
import { kafkaFor, storeFor } from "../support/clients";
import { freshDatabase } from "../support/databases";
import { callEvent } from "../support/events";
import { runTandem } from "../support/processes";
import { stack } from "../support/stack";
import { link, topologyOf, writeTopologyFile } from "../support/topology";
import { until } from "../support/wait";

// Recorders that use standard clients, not Tandem's code: audio uploaded by a plain S3 client (no Tandem
// metadata) is valid when its bytes hash to the event's sha256, so the origin marks it present and the
// bridge and the other site's materializer bring it to lon; audio its origin lacks is a difference for
// `tandem verify` at every site. The example recorders of docs/recorders.md are run by
// recorder-conformance.test.ts.
const testStack = await stack();
const nyc = testStack.site("nyc");
const lon = testStack.site("lon");
const logger = createLogger("standard-client-audio-test");
logger.level = "error";

const databases: Array<{ url: string; drop: () => Promise<void> }> = [];
const pools = new Map<string, pg.Pool>();
const running: Materializer[] = [];
let bridge: RunningBridge | undefined;
const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-standard-audio-"));
const topologyFile = path.join(workDir, "topology.yaml");

/** A plain S3 client, configured as any recorder would configure one against the site's store. */
function plainS3(site: SiteEndpoints): S3Client {
  const { endpoint, region, accessKeyId, secretAccessKey } = site.objectStore;
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
}
const nycS3 = plainS3(nyc);

/** Bytes under `key` in nyc's bucket with a bare PutObject: no metadata of any kind. */
async function uploadPlain(key: string, bytes: Buffer): Promise<void> {
  await nycS3.send(new PutObjectCommand({ Bucket: nyc.objectStore.bucket, Key: key, Body: bytes }));
}

/** A call at nyc whose event names `key` and the sha256 of `bytes`. */
function callWithAudio(tenantId: string, bytes: Buffer): CallCompleted {
  const event = callEvent("nyc", tenantId, randomUUID());
  return {
    ...event,
    audio: {
      objectKey: audioObjectKey(tenantId, event.startedAtMs, event.callId),
      sizeBytes: bytes.length,
      sha256: sha(bytes),
      contentType: "audio/wav",
      codec: "pcm_s16le",
      channels: 1,
      sampleRateHz: 8000,
    },
  };
}

/** The event into nyc's `calls.completed`, as a recorder at nyc would write it; the bridge takes it to lon. */
async function publish(event: CallCompleted): Promise<void> {
  const producer = kafkaFor(nyc).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const value = await new EventCodec({ host: nyc.registry.url }).encode(CALLS_TOPIC, event);
  const headers = buildHeaders({
    eventId: event.eventId,
    origin: "nyc",
    tenantId: event.tenantId,
    groupId: event.groupId,
  });
  await producer.send({ topic: CALLS_TOPIC, acks: -1, messages: [{ key: event.callId, value, headers }] });
  await producer.disconnect();
}

async function audioAt(site: string, callId: string) {
  const { rows } = await pools.get(site)!.query<{
    audio_state: string;
    local_object_key: string;
    last_error: string | null;
    attempts: number | null;
  }>(
    `SELECT c.audio_state, c.local_object_key, t.last_error, t.attempts
       FROM calls c LEFT JOIN audio_transfers t USING (call_id) WHERE c.call_id = $1`,
    [callId],
  );
  return rows[0];
}

beforeAll(async () => {
  const nycAdmin = kafkaFor(nyc).admin();
  const lonAdmin = kafkaFor(lon).admin();
  await Promise.all([nycAdmin.connect(), lonAdmin.connect()]);
  await ensureSiteTopics(nycAdmin);
  await ensureSiteTopics(lonAdmin);
  await Promise.all([nycAdmin.disconnect(), lonAdmin.disconnect()]);

  const [nycDb, lonDb] = await Promise.all([freshDatabase(nyc), freshDatabase(lon)]);
  databases.push(nycDb, lonDb);
  const topology = topologyOf([nyc, lon], [link("nyc", "lon")]);
  topology.sites[0]!.postgres = { connectionString: nycDb.url };
  topology.sites[1]!.postgres = { connectionString: lonDb.url };
  writeTopologyFile(topologyFile, topology);
  bridge = await runBridge({ topology, logger, topicRefreshMs: 1000 });
  await bridge.ready;
  for (const [siteId, url] of [
    ["nyc", nycDb.url],
    ["lon", lonDb.url],
  ] as const) {
    pools.set(siteId, new pg.Pool({ connectionString: url }));
    const materializer = await runMaterializer({
      topology,
      siteId,
      logger,
      options: {
        consumer: { groupId: `test-materializer-${randomUUID()}`, topicRefreshMs: 1000 },
        audio: { pollMs: 200, initialBackoffMs: 300, maxBackoffMs: 1000 },
      },
    });
    running.push(materializer);
    await materializer.joined;
  }
});

afterAll(async () => {
  await bridge?.stop();
  await Promise.all(running.map((m) => m.stop()));
  await Promise.all([...pools.values()].map((pool) => pool.end()));
  for (const database of databases) await database.drop();
  nycS3.destroy();
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe("audio uploaded by a standard S3 client", () => {
  it("is present at the origin once its bytes hash to the event's sha256, and copied to the other site", async () => {
    const bytes = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 256));
    const call = callWithAudio(randomUUID(), bytes);
    await uploadPlain(call.audio!.objectKey, bytes);
    await publish(call);

    for (const site of ["nyc", "lon"]) {
      await until(
        `the audio present at ${site}`,
        async () => (await audioAt(site, call.callId))?.audio_state === "present",
      );
    }
    const copied = await audioAt("lon", call.callId);
    expect((await storeFor(lon).head(copied!.local_object_key))?.sha256).toBe(sha(bytes));
  });

  it("whose bytes are others is a checksum mismatch at every site, never present nor absent", async () => {
    const call = callWithAudio(randomUUID(), Buffer.from("the audio the event describes"));
    await uploadPlain(call.audio!.objectKey, Buffer.from("other bytes under the same key"));
    await publish(call);

    for (const site of ["nyc", "lon"]) {
      const row = await until(`a failed attempt at ${site}`, async () => {
        const found = await audioAt(site, call.callId);
        return (found?.attempts ?? 0) >= 2 && found;
      });
      expect(row.audio_state).toBe("pending");
      expect(row.last_error).toContain(`nyc:${call.audio!.objectKey} checksum-mismatch`);
      expect(row.last_error).not.toContain(`nyc:${call.audio!.objectKey} absent`);
    }
    expect(await storeFor(lon).head((await audioAt("lon", call.callId))!.local_object_key)).toBeUndefined();
  });

  it("that is absent or wrong at the origin makes `tandem verify` report the call at every site, exit 1", async () => {
    const tenantId = randomUUID();
    const bytes = Buffer.from("the recorded audio");
    const good = callWithAudio(tenantId, bytes);
    const wrong = callWithAudio(tenantId, bytes);
    const neverUploaded = callWithAudio(tenantId, bytes);
    await uploadPlain(good.audio!.objectKey, bytes);
    await uploadPlain(wrong.audio!.objectKey, Buffer.from("other bytes"));
    for (const call of [good, wrong, neverUploaded]) await publish(call);
    for (const site of ["nyc", "lon"]) {
      await until(
        `the good call present at ${site}`,
        async () => (await audioAt(site, good.callId))?.audio_state === "present",
      );
      for (const call of [wrong, neverUploaded]) {
        await until(
          `an attempt at ${site}`,
          async () => ((await audioAt(site, call.callId))?.attempts ?? 0) >= 1,
        );
      }
    }

    const result = runTandem(["verify", "--config", topologyFile, "--tenant", tenantId, "--grace", "0"]);
    expect(result.out).toMatch(/verify nyc, lon: NOT consistent/);
    expect(result.code).toBe(1);
    for (const call of [wrong, neverUploaded]) {
      for (const site of ["nyc", "lon"]) {
        expect(result.out).toMatch(
          new RegExp(
            `call ${call.callId} at ${site}: audio-missing-at-origin \\(audio pending at its origin nyc`,
          ),
        );
      }
    }
    expect(result.out).not.toContain(good.callId);
  });
});
