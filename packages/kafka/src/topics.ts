import { CALLS_TOPIC, DLQ_TOPIC, HEARTBEATS_TOPIC, USERS_TOPIC } from "@tandem/events";
import type { Admin } from "kafkajs";

/**
 * Creates the topics that are missing, with the given partition counts; topics created meanwhile by
 * another instance are fine.
 */
export async function ensureTopics(
  admin: Admin,
  topics: Array<{ topic: string; numPartitions: number }>,
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return;
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  } catch (error) {
    const alreadyExists = (error as { type?: string }).type === "TOPIC_ALREADY_EXISTS";
    const nested = (error as { errors?: Array<{ type?: string }> }).errors;
    if (!alreadyExists && !nested?.every((e) => e.type === "TOPIC_ALREADY_EXISTS")) throw error;
  }
}

/**
 * Records in `topics` that a consumer group has not committed yet: end offsets minus committed offsets (a
 * partition never committed counts from its low offset).
 */
export async function groupLagRecords(admin: Admin, groupId: string, topics: string[]): Promise<number> {
  if (topics.length === 0) return 0;
  const committed = await admin.fetchOffsets({ groupId, topics });
  let lag = 0;
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const partitions = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const end of ends) {
      const at = Number(partitions.find((p) => p.partition === end.partition)?.offset ?? "-1");
      lag += Math.max(0, Number(end.high) - (at < 0 ? Number(end.low) : at));
    }
  }
  return lag;
}

export async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]?.partitions.length ?? 0;
}

/** Partitions of a site's own topics when Tandem creates them; bridges copy the count to remote topics. */
export const DEFAULT_PARTITIONS = 3;

/** The topics every site has: its local event topics and Tandem's own. */
export async function ensureSiteTopics(admin: Admin, numPartitions = DEFAULT_PARTITIONS): Promise<void> {
  await ensureTopics(admin, [
    { topic: CALLS_TOPIC, numPartitions },
    { topic: USERS_TOPIC, numPartitions },
    { topic: DLQ_TOPIC, numPartitions: 1 },
    { topic: HEARTBEATS_TOPIC, numPartitions: 1 },
  ]);
}
