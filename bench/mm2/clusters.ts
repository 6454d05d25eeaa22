import { setTimeout as sleep } from "node:timers/promises";
import type { Admin, Message, Producer } from "kafkajs";
import { LocalStack, type WanLayout } from "@tandem/stack";

/**
 * A benchmark's own local stack (its data directory and ports), with Toxiproxy between its sites when
 * given a WAN, reporting its progress on stderr.
 */
export function benchStack(dataDir: string, sites: string[], basePort: number, wan?: WanLayout): LocalStack {
  return new LocalStack({
    dataDir,
    sites,
    basePort,
    ...(wan === undefined ? {} : { wan }),
    progress: (message) => process.stderr.write(`[stack] ${message}\n`),
  });
}

/**
 * Empties a benchmark cluster: deletes every topic but Kafka's own (`__*`) and every consumer group, so
 * each mirror starts from the same state (no target records, no committed position, no MirrorMaker 2
 * internal topics). Only for the benchmark's dedicated stack.
 */
export async function emptyCluster(admin: Admin): Promise<void> {
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId);
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => {});
  const topics = (await admin.listTopics()).filter((t) => !t.startsWith("__"));
  if (topics.length === 0) return;
  await admin.deleteTopics({ topics, timeout: 30_000 });
  for (let i = 0; i < 100; i++) {
    const left = (await admin.listTopics()).filter((t) => topics.includes(t));
    if (left.length === 0) return;
    await sleep(200);
  }
  throw new Error(`topics still present after deletion: ${topics.join(", ")}`);
}

/**
 * Creates a topic, retrying while the broker still finishes deleting a topic of the same name.
 */
export async function createTopic(admin: Admin, topic: string, numPartitions: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
      if ((await admin.listTopics()).includes(topic)) return;
      if (attempt >= 50) throw new Error(`topic ${topic} not created`);
    } catch (error) {
      if (attempt >= 50) throw error;
    }
    await sleep(300);
  }
}

/** Writes `count` records as fast as the cluster takes them: a few batches in flight, acks=all. */
export async function produceBacklog(options: {
  producer: Producer;
  topic: string;
  count: number;
  record: (index: number) => Message;
  onProgress?: (done: number) => void;
}): Promise<void> {
  const { producer, topic, count, record } = options;
  const batchSize = 500;
  const inFlight = 4;
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        const from = next;
        const to = Math.min(count, from + batchSize);
        next = to;
        const messages = Array.from({ length: to - from }, (_, i) => record(from + i));
        await producer.send({ topic, acks: -1, messages });
        done += to - from;
        options.onProgress?.(done);
      }
    }),
  );
}

/**
 * Writes `count` records at `ratePerSecond`, in small batches every `tickMs`, each record stamped with the
 * time it is sent: the timestamps latency is measured from at the target.
 */
export async function producePaced(options: {
  producer: Producer;
  topic: string;
  count: number;
  ratePerSecond: number;
  record: (index: number) => Message;
  onProgress?: (done: number) => void;
}): Promise<{ elapsedMs: number }> {
  const { producer, topic, count, ratePerSecond, record } = options;
  const tickMs = 10;
  const start = Date.now();
  let sent = 0;
  while (sent < count) {
    const due = Math.min(count, Math.floor(((Date.now() - start) * ratePerSecond) / 1000));
    if (due > sent) {
      const timestamp = String(Date.now());
      const messages = Array.from({ length: due - sent }, (_, i) => ({ ...record(sent + i), timestamp }));
      await producer.send({ topic, acks: -1, messages });
      sent = due;
      options.onProgress?.(sent);
    }
    await sleep(tickMs);
  }
  return { elapsedMs: Date.now() - start };
}
