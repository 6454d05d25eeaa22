import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CALLS_TOPIC,
  EventCodec,
  HybridLogicalClock,
  USERS_TOPIC,
  ValidationError,
  parseHeaders,
  type CallCompleted,
  type UserChanged,
} from "@tandem/events";
import { ensureSiteTopics } from "@tandem/kafka";
import { ObjectStoreError, type ObjectStore, type PutOptions } from "@tandem/object-store";
import { RecorderPublisher, type CallMetadata } from "../../services/recorder/src/publisher";
import { kafkaFor, readTopic, storeFor } from "../support/clients";
import { stack } from "../support/stack";

const site = (await stack()).site("nyc");
const kafka = kafkaFor(site);
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
const codec = new EventCodec({ host: site.registry.url });
const clock = new HybridLogicalClock(() => Date.now());

/** The real S3 store, counting uploads so that a test can tell a second upload from none. */
class CountingStore implements ObjectStore {
  puts = 0;
  constructor(private readonly inner: ObjectStore) {}
  get description() {
    return this.inner.description;
  }
  put(key: string, body: Readable, options?: PutOptions) {
    this.puts++;
    return this.inner.put(key, body, options);
  }
  get(key: string, options?: { verifySha256?: string }) {
    return this.inner.get(key, options);
  }
  head(key: string) {
    return this.inner.head(key);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  close() {
    this.inner.close();
  }
}

const store = new CountingStore(storeFor(site));

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureSiteTopics(admin);
  await admin.disconnect();
  await producer.connect();
});

afterAll(async () => {
  await producer.disconnect();
  store.close();
});

function call(overrides: Partial<CallMetadata> = {}): CallMetadata {
  const startedAtMs = Date.parse("2026-11-20T10:00:00Z");
  return {
    callId: randomUUID(),
    tenantId: randomUUID(),
    groupId: randomUUID(),
    participantUserIds: [randomUUID()],
    recorderId: "rec-1",
    direction: "INBOUND",
    caller: { number: "+12125550100", name: "Ada" },
    callee: { number: "+442071234567", name: null },
    startedAtMs,
    endedAtMs: startedAtMs + 61_000,
    durationMs: 61_000,
    attributes: { queue: "support" },
    ...overrides,
  };
}

const audioBytes = Buffer.alloc(300_000, 0x55);
const audio = () => ({
  body: Readable.from([audioBytes]),
  contentType: "audio/wav",
  codec: "pcm_s16le",
  channels: 1,
  sampleRateHz: 8000,
});

/** The events of one call or user (the record key), decoded; other tests' records are never decoded. */
async function findEvent<T extends CallCompleted | UserChanged>(topic: string, key: string) {
  const messages = await readTopic(site, topic, { idleMs: 2000 });
  const found = [];
  for (const message of messages.filter((m) => m.key?.toString() === key)) {
    const decoded = await codec.decode(message.value, {
      topic,
      partition: message.partition,
      offset: message.offset,
    });
    found.push({ event: decoded.event as T, message });
  }
  return found;
}

describe("recorder publisher against the real stack", () => {
  it("uploads the audio, then publishes a CallCompleted whose sha256 matches the stored object", async () => {
    const metadata = call();
    const published = await new RecorderPublisher({
      site: "nyc",
      producer,
      codec,
      store,
      clock,
    }).publishCallCompleted(metadata, audio());
    const sha256 = createHash("sha256").update(audioBytes).digest("hex");
    expect(published.audio).toMatchObject({ sha256, sizeBytes: audioBytes.length });
    expect(published.audio?.objectKey).toBe(`tenants/${metadata.tenantId}/2026/11/20/${metadata.callId}.wav`);
    expect(await store.head(published.audio!.objectKey)).toMatchObject({ sha256 });

    const found = await findEvent<CallCompleted>(CALLS_TOPIC, metadata.callId);
    expect(found).toHaveLength(1);
    expect(found[0]!.event).toEqual(published);
    expect(found[0]!.message.key?.toString()).toBe(metadata.callId);
    const headers = parseHeaders(found[0]!.message.headers);
    expect(headers).toEqual({
      ok: true,
      headers: {
        eventId: published.eventId,
        origin: "nyc",
        path: ["nyc"],
        tenantId: metadata.tenantId,
        groupId: metadata.groupId,
      },
    });
  });

  it("after a crash between upload and publish, the retry publishes the same event without a second upload", async () => {
    const metadata = call();
    const brokenProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    // A producer that was never connected fails its send, as a crash right after the upload would.
    const crashing = new RecorderPublisher({ site: "nyc", producer: brokenProducer, codec, store, clock });
    const putsBefore = store.puts;
    await expect(crashing.publishCallCompleted(metadata, audio())).rejects.toThrow();
    expect(store.puts).toBe(putsBefore + 1);

    const retried = await new RecorderPublisher({
      site: "nyc",
      producer,
      codec,
      store,
      clock,
    }).publishCallCompleted(metadata, audio());
    expect(store.puts).toBe(putsBefore + 1);
    const again = await new RecorderPublisher({
      site: "nyc",
      producer,
      codec,
      store,
      clock,
    }).publishCallCompleted(metadata, audio());
    expect(again.eventId).toBe(retried.eventId);
    const found = await findEvent<CallCompleted>(CALLS_TOPIC, metadata.callId);
    expect(new Set(found.map((f) => f.event.eventId))).toEqual(new Set([retried.eventId]));
  });

  it.each([
    ["a missing id", { callId: "" }],
    ["a non-UUID tenant", { tenantId: "acme" }],
    ["an end before its start", { endedAtMs: Date.parse("2026-11-20T09:00:00Z") }],
    ["a negative duration", { durationMs: -5 }],
  ])("refuses %s: nothing uploaded, nothing published", async (_name, overrides) => {
    const metadata = call(overrides as Partial<CallMetadata>);
    const putsBefore = store.puts;
    const publisher = new RecorderPublisher({ site: "nyc", producer, codec, store, clock });
    const error = await publisher.publishCallCompleted(metadata, audio()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error instanceof ValidationError || (error as { name?: string }).name === "AudioKeyError").toBe(
      true,
    );
    expect(store.puts).toBe(putsBefore);
  });

  it("publishes user upserts and deletes with the writer's clock and the version they were based on", async () => {
    const publisher = new RecorderPublisher({ site: "nyc", producer, codec, store, clock });
    const userId = randomUUID();
    const tenantId = randomUUID();
    const groupId = randomUUID();
    const created = await publisher.publishUserChanged({
      userId,
      tenantId,
      groupId,
      operation: "UPSERT",
      changes: { name: "Grace", email: "grace@example.com", extensions: ["201", "202"], active: true },
    });
    const remoteSeen = { lon: { wallTimeMs: Date.now() + 60_000, logical: 3 } };
    const deleted = await publisher.publishUserChanged({
      userId,
      tenantId,
      groupId,
      operation: "DELETE",
      baseVersion: { nyc: created.hlc, ...remoteSeen },
    });
    expect([...created.changedFields].sort()).toEqual(["active", "email", "extensions", "name"]);
    expect(deleted.changedFields).toEqual([]);
    // The delete's clock exceeds every clock of the version it was based on.
    expect(deleted.hlc.wallTimeMs).toBeGreaterThanOrEqual(remoteSeen.lon.wallTimeMs);
    const found = await findEvent<UserChanged>(USERS_TOPIC, userId);
    expect(found.map((f) => f.event)).toEqual([created, deleted]);
  });

  it("refuses a user edit with a non-UUID id", async () => {
    const publisher = new RecorderPublisher({ site: "nyc", producer, codec, store, clock });
    await expect(
      publisher.publishUserChanged({
        userId: "42",
        tenantId: randomUUID(),
        groupId: randomUUID(),
        operation: "DELETE",
      }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it("names an unreachable store in the error and publishes nothing", async () => {
    const down = new (await import("@tandem/object-store")).S3ObjectStore({
      ...site.objectStore,
      endpoint: "http://127.0.0.1:1",
    });
    const metadata = call();
    const publisher = new RecorderPublisher({ site: "nyc", producer, codec, store: down, clock });
    await expect(publisher.publishCallCompleted(metadata, audio())).rejects.toBeInstanceOf(ObjectStoreError);
    down.close();
    expect(await findEvent<CallCompleted>(CALLS_TOPIC, metadata.callId)).toHaveLength(0);
  });
});
