import type { Kafka } from "kafkajs";
import { HEARTBEATS_TOPIC } from "@tandem/events";
import { HEARTBEAT_FORWARDED_AT_HEADER, parseHeartbeat } from "@tandem/replication";
import { readTopicTail } from "./topic-tail";

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
  const latest = new Map<string, DeliveredHeartbeat & { offset: bigint }>();
  for (const message of await readTopicTail(kafka, HEARTBEATS_TOPIC, { tail: TAIL, timeoutMs })) {
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
  }
  return latest;
}
