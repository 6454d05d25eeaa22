import type { Kafka } from "kafkajs";
import { HEARTBEATS_TOPIC } from "@tandem/events";
import { HEARTBEAT_FORWARDED_AT_HEADER, parseHeartbeat } from "@tandem/replication";

/** How many of the newest heartbeat records are read to find each link's latest. */
const TAIL = 500;

export interface DeliveredHeartbeat {
  link: string;
  emittedAtMs: number;
  /** When the link's bridge wrote it at this site. */
  deliveredAtMs: number;
}

/**
 * The last heartbeat that each link delivered to this site (MirrorMaker 2 style), in arrival order: how
 * long ago it was delivered says whether the link still moves, even when it carries no data. Arrival,
 * not emission time, decides which is last, so one heartbeat from a skewed clock cannot mask an outage.
 */
export async function latestHeartbeats(
  kafka: Kafka,
  timeoutMs = 10_000,
): Promise<Map<string, DeliveredHeartbeat>> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(HEARTBEATS_TOPIC).catch(() => []);
  await admin.disconnect();
  const latest = new Map<string, DeliveredHeartbeat & { offset: bigint }>();
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
        const offset = BigInt(message.offset);
        if (heartbeat !== undefined && (latest.get(heartbeat.link)?.offset ?? -1n) < offset) {
          const forwardedAt = Number(message.headers?.[HEARTBEAT_FORWARDED_AT_HEADER]?.toString());
          latest.set(heartbeat.link, {
            ...heartbeat,
            deliveredAtMs: Number.isFinite(forwardedAt) ? forwardedAt : Number(message.timestamp),
            offset,
          });
        }
        if (Number(message.offset) >= (remaining.get(partition) ?? -1)) remaining.delete(partition);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
    for (const end of pending) {
      const from = Math.max(Number(end.low), Number(end.high) - TAIL);
      consumer.seek({ topic: HEARTBEATS_TOPIC, partition: end.partition, offset: String(from) });
    }
  });
  await consumer.disconnect();
  return latest;
}
