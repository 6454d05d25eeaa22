import type { Kafka } from "kafkajs";
import { GAPS_TOPIC } from "@tandem/events";
import { recordGap } from "@tandem/kafka";
import { latestGaps, type GapRecord, type GapResolution } from "@tandem/replication";
import { readTopicTail } from "./topic-tail";

/** The lost ranges recorded at a site that no operator has acknowledged yet. */
export async function openGaps(kafka: Kafka): Promise<GapRecord[]> {
  const records = await readTopicTail(kafka, GAPS_TOPIC);
  return [...latestGaps(records.map((r) => r.value)).values()].filter((g) => g.acknowledgedAt === undefined);
}

/** Marks gaps as dealt with (repaired, or accepted as lost): status stops reporting them. */
export async function acknowledgeGaps(
  kafka: Kafka,
  gaps: readonly GapRecord[],
  resolution: GapResolution,
  at = new Date(),
): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (const gap of gaps)
      await recordGap(producer, { ...gap, acknowledgedAt: at.toISOString(), resolution });
  } finally {
    await producer.disconnect();
  }
}

export function describeGap(gap: GapRecord): string {
  return (
    `${gap.site}: ${gap.count} record(s) of ${gap.topic}/${gap.partition} (offsets ${gap.firstOffset}-${gap.lastOffset}) ` +
    `deleted before ${gap.component} read them, found ${gap.detectedAt}`
  );
}
