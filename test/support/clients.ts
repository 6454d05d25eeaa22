import { createHash, randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import { Readable } from "node:stream";
import { Kafka, logLevel, type KafkaMessage } from "kafkajs";
import { EventCodec, HybridLogicalClock, audioObjectKey, type CallCompleted } from "@tandem/events";
import { S3ObjectStore } from "@tandem/object-store";
import type { SiteEndpoints } from "@tandem/stack";
import { RecorderPublisher } from "../../services/recorder/src/publisher";

/** A kafkajs client for a site, over TLS with SASL/SCRAM when the site's stack runs secure. */
export function kafkaFor(site: SiteEndpoints, clientId = "tandem-test"): Kafka {
  const { brokers, ssl, sasl } = site.kafka;
  return new Kafka({
    clientId,
    brokers,
    ssl: ssl === undefined ? undefined : { ca: fs.readFileSync(ssl.ca, "utf8") },
    sasl,
    logLevel: logLevel.NOTHING,
  });
}

export function storeFor(site: SiteEndpoints, prefix?: string): S3ObjectStore {
  return new S3ObjectStore({ ...site.objectStore, prefix });
}

type Received = KafkaMessage & { topic: string; partition: number };

/** When a read ends: after `count` records, once `until` holds for those read, or else when idle. */
interface ReadOptions {
  count?: number;
  until?: (messages: Received[]) => boolean;
  timeoutMs?: number;
  idleMs?: number;
}

/**
 * Every record of a topic from the beginning: until `count` arrived, or `until` holds, or else until
 * nothing arrived for `idleMs` after the consumer joined its group; never past the timeout.
 */
export async function readTopic(
  site: SiteEndpoints,
  topic: string,
  options: ReadOptions = {},
): Promise<Array<KafkaMessage & { partition: number }>> {
  return readTopics(site, [topic], options);
}

/**
 * The records of several topics, read by one consumer: one group join for all of them, which matters
 * at a site of the shared test stack, where every test leaves topics. Ends after `count` records, once
 * `until` holds for those read (which does not depend on how fast a loaded machine delivers them), or
 * else once nothing arrived for `idleMs`.
 */
export async function readTopics(
  site: SiteEndpoints,
  topics: string[],
  options: ReadOptions = {},
): Promise<Received[]> {
  const kafka = kafkaFor(site);
  const consumer = kafka.consumer({ groupId: `test-reader-${crypto.randomUUID()}` });
  const messages: Received[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let lastArrival = Number.POSITIVE_INFINITY;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    lastArrival = Date.now();
  });
  await consumer.run({
    eachMessage: async ({ message, topic, partition }) => {
      messages.push({ ...message, topic, partition });
      lastArrival = Date.now();
    },
  });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const idleMs = options.idleMs ?? 3000;
  while (Date.now() < deadline) {
    if (options.until !== undefined) {
      if (options.until(messages)) break;
    } else if (options.count !== undefined) {
      if (messages.length >= options.count) break;
    } else if (Date.now() - lastArrival > idleMs) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await consumer.disconnect();
  return messages;
}

/** What a recorder at the site embeds to publish calls and user edits; `close` disconnects it. */
export async function recorderAt(
  site: SiteEndpoints,
): Promise<{ publisher: RecorderPublisher; close: () => Promise<void> }> {
  const producer = kafkaFor(site).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const publisher = new RecorderPublisher({
    site: site.site,
    producer,
    codec: new EventCodec({ host: site.registry.url }),
    store: storeFor(site),
    clock: new HybridLogicalClock(() => Date.now()),
  });
  return { publisher, close: () => producer.disconnect() };
}

/** Records calls with random audio at a site, one after the other, through the recorder's publisher. */
export async function recordCallsWithAudio(
  site: SiteEndpoints,
  count: number,
  call: { tenantId: string; groupId: string; participantUserIds?: string[]; audioBytes?: number },
): Promise<CallCompleted[]> {
  const { publisher, close } = await recorderAt(site);
  const calls: CallCompleted[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const startedAtMs = Date.now() - 60_000;
      calls.push(
        await publisher.publishCallCompleted(
          {
            callId: randomUUID(),
            tenantId: call.tenantId,
            groupId: call.groupId,
            participantUserIds: call.participantUserIds ?? [],
            recorderId: "test-recorder",
            direction: "INBOUND",
            caller: { number: "+12125550100", name: null },
            callee: { number: "+442071234567", name: null },
            startedAtMs,
            endedAtMs: startedAtMs + 3_000,
            durationMs: 3_000,
            attributes: {},
          },
          {
            body: Readable.from([randomBytes(call.audioBytes ?? 24_000)]),
            contentType: "audio/wav",
            codec: "pcm_s16le",
            channels: 1,
            sampleRateHz: 8000,
          },
        ),
      );
    }
  } finally {
    await close();
  }
  return calls;
}

/** The sha256 of a call's audio object as a site's store holds it. */
export async function audioSha256At(site: SiteEndpoints, call: CallCompleted): Promise<string> {
  const { body } = await storeFor(site).get(audioObjectKey(call.tenantId, call.startedAtMs, call.callId));
  const hash = createHash("sha256");
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Edits of a user's name at several sites at once, each unaware of the others (empty base version): with
 * the manual merge policy, a conflict for the administrator.
 */
export async function concurrentNameEdits(
  edits: Array<{ site: SiteEndpoints; name: string }>,
  user: { userId: string; tenantId: string; groupId: string },
): Promise<void> {
  await Promise.all(
    edits.map(async ({ site, name }) => {
      const { publisher, close } = await recorderAt(site);
      await publisher.publishUserChanged({
        ...user,
        operation: "UPSERT",
        changes: { name },
        baseVersion: {},
      });
      await close();
    }),
  );
}
