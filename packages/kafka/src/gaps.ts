import type { Producer } from "kafkajs";
import { GAPS_TOPIC } from "@tandem/events";
import { gapMessage, type GapRecord } from "@tandem/replication";

/** Writes a lost range to the site's `tandem.gaps`, acknowledged by every replica, where status finds it. */
export async function recordGap(producer: Producer, gap: GapRecord): Promise<void> {
  await producer.send({ topic: GAPS_TOPIC, acks: -1, messages: [gapMessage(gap)] });
}
