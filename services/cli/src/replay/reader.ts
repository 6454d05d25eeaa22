/** Reads exact offset ranges of a site's topics: the Kafka adapter of inspect and replay. */
import { randomUUID } from "node:crypto";
import type { Admin, Consumer, IHeaders, Kafka } from "kafkajs";
import { isRetriableCrash, SupervisedConsumer } from "@tandem/kafka";
import { retryWithBackoff } from "@tandem/runtime";
import type { OffsetRange, PartitionOffsets } from "./plan";

export interface ReadRecord {
  topic: string;
  partition: number;
  offset: string;
  timestampMs: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** Attempts to join the read's group before a retriable failure is reported (about a minute of backoff). */
const START_ATTEMPTS = 8;

export async function partitionOffsets(admin: Admin, topic: string): Promise<PartitionOffsets[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets
    .map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
    .sort((a, b) => a.partition - b.partition);
}

/** Per partition, the first offset whose timestamp is at or after `timestampMs` (the end when none is). */
export async function offsetsAt(
  admin: Admin,
  topic: string,
  timestampMs: number,
): Promise<Map<number, number>> {
  const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs);
  return new Map(offsets.map((o) => [o.partition, Number(o.offset)]));
}

export interface ReadOptions {
  /** Prefix of the throwaway consumer group; it commits nothing and is deleted afterwards. */
  purpose: string;
  signal?: AbortSignal;
  /** Called with the number of offsets passed (records, and markers or gaps between them). */
  onProgress?: (passed: number) => void;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Every record in the ranges, a batch at a time, each batch handled before the next is fetched from its
 * partition. kafkajs has no manual assignment, so a consumer group of one member with a fresh id seeks to
 * each range's start and commits nothing. A partition is done once the consumer's position passes its
 * range's end: control records and compacted gaps count, so a transactional topic ends too.
 * Returns the partitions the signal stopped before their end (none when the read completed).
 */
export async function readRanges(
  kafka: Kafka,
  ranges: readonly OffsetRange[],
  handle: (records: ReadRecord[]) => Promise<void>,
  options: ReadOptions,
): Promise<OffsetRange[]> {
  const wanted = new Map(ranges.filter((r) => r.end > r.start).map((r) => [key(r.topic, r.partition), r]));
  if (wanted.size === 0 || options.signal?.aborted) return [...wanted.values()];
  const positions = new Map([...wanted].map(([k, r]) => [k, r.start]));
  const remaining = new Set(wanted.keys());
  const groupId = `tandem-cli.${options.purpose}.${randomUUID()}`;
  let failed: (error: unknown) => void = () => {};
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  // Awaited once the consumer runs; a failure before then must not count as unhandled.
  done.catch(() => {});
  const onAbort = () => finished();
  options.signal?.addEventListener("abort", onAbort);

  const topics = [...new Set([...wanted.values()].map((r) => r.topic))].sort();
  let idle: Array<{ topic: string; partitions: number[] }> = [];
  const track = (consumer: Consumer) => {
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const k = key(payload.topic, payload.partition);
      const range = wanted.get(k);
      const before = positions.get(k);
      if (range === undefined || before === undefined) return;
      const after = Math.min(range.end, Math.max(before, Number(payload.lastOffset) + 1));
      positions.set(k, after);
      if (after > before) options.onProgress?.(after - before);
      if (after >= range.end && remaining.delete(k)) {
        consumer.pause([{ topic: range.topic, partitions: [range.partition] }]);
        if (remaining.size === 0) finished();
      }
    });
    // A replacement joins afresh, without the seeks and pauses of the consumer before it: every join puts
    // each partition back where the read has got to.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      const done = [...wanted].filter(([k]) => !remaining.has(k)).map(([, r]) => r);
      const paused = [...idle, ...done.map((r) => ({ topic: r.topic, partitions: [r.partition] }))];
      if (paused.length > 0) consumer.pause(paused);
      for (const k of remaining) {
        const range = wanted.get(k)!;
        consumer.seek({ topic: range.topic, partition: range.partition, offset: String(positions.get(k)) });
      }
    });
  };
  const consumer = new SupervisedConsumer({
    kafka,
    // A replacement after a broker restart joins once the crashed member's session has run out, the
    // broker knowing nothing of the crash: 10 s rather than kafkajs's 30 is that wait (30 s to 10 s, measured).
    consumer: { groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500, sessionTimeout: 10_000 },
    run: {
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = wanted.get(key(batch.topic, batch.partition));
        if (range === undefined || options.signal?.aborted) return;
        const records = batch.messages
          .filter((m) => Number(m.offset) >= range.start && Number(m.offset) < range.end)
          .map((m) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            timestampMs: Number(m.timestamp),
            key: m.key,
            value: m.value,
            headers: m.headers ?? {},
          }));
        // A failing handler ends the read with its error, rather than kafkajs retrying the batch forever.
        if (records.length > 0) await handle(records).catch(failed);
      },
    },
    wantedTopics: async () => topics,
    events: {
      created: track,
      // A consumer that crashed after a retriable error (a broker that just restarted, a coordinator still
      // loading) is replaced; any other error ends the read.
      crashed: (error) => {
        if (!isRetriableCrash(error)) failed(error);
      },
    },
  });

  try {
    // Partitions without a range are assigned too (the group takes whole topics): they stay paused.
    idle = await partitionsOutside(kafka, topics, (t, p) => wanted.has(key(t, p)));
    // A coordinator still loading its groups (a broker that just started or moved leaders) is waited for.
    await retryWithBackoff(() => consumer.start(), {
      maxAttempts: START_ATTEMPTS,
      retryIf: (error) => error instanceof Error && isRetriableCrash(error),
      signal: options.signal,
    });
    await done;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await consumer.stop();
    await deleteGroup(kafka, groupId);
  }
  return [...remaining].map((k) => wanted.get(k)!);
}

async function partitionsOutside(
  kafka: Kafka,
  topics: readonly string[],
  inside: (topic: string, partition: number) => boolean,
): Promise<Array<{ topic: string; partitions: number[] }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
    return metadata.topics
      .map(({ name, partitions }) => ({
        topic: name,
        partitions: partitions.map((p) => p.partitionId).filter((p) => !inside(name, p)),
      }))
      .filter((t) => t.partitions.length > 0);
  } finally {
    await admin.disconnect();
  }
}

/** The group committed nothing; deleting it keeps the cluster's group list clean. Best effort. */
async function deleteGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch {
    // The broker removes an empty group without offsets by itself later.
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
