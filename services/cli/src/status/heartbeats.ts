import type { Kafka } from "kafkajs";
import { HEARTBEATS_TOPIC } from "@tandem/events";
import { parseHeartbeat, type Heartbeat } from "@tandem/bridge";

/** How many of the newest heartbeat records are read to find each link's latest. */
const TAIL = 500;

/**
 * The latest heartbeat that each link delivered to this site (MirrorMaker 2 style): its age says how far
 * behind a link is even when it carries no data.
 */
export async function latestHeartbeats(kafka: Kafka, timeoutMs = 10_000): Promise<Map<string, Heartbeat>> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(HEARTBEATS_TOPIC).catch(() => []);
  await admin.disconnect();
  const latest = new Map<string, Heartbeat>();
  const pending = ends.filter((e) => Number(e.high) > Number(e.low));
  if (pending.length === 0) return latest;
  const consumer = kafka.consumer({ groupId: `tandem-status-${crypto.randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: HEARTBEATS_TOPIC, fromBeginning: true });
  const remaining = new Map(pending.map((e) => [e.partition, Number(e.high) - 1]));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const heartbeat = parseHeartbeat(message);
        if (heartbeat !== undefined) {
          const known = latest.get(heartbeat.link);
          if (known === undefined || known.emittedAtMs < heartbeat.emittedAtMs)
            latest.set(heartbeat.link, heartbeat);
        }
        if (Number(message.offset) >= (remaining.get(partition) ?? -1)) remaining.delete(partition);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
    for (const end of pending) {
      consumer.seek({
        topic: HEARTBEATS_TOPIC,
        partition: end.partition,
        offset: String(Math.max(Number(end.low), Number(end.high) - TAIL)),
      });
    }
  });
  await consumer.disconnect();
  return latest;
}
