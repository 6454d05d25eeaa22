import type { Kafka } from "kafkajs";
import { DLQ_TOPIC, eventKindForTopic, type EventCodec } from "@tandem/events";
import { DLQ_HEADERS } from "@tandem/kafka";
import { isPermanent } from "@tandem/runtime";
import { readTopicTail } from "./status/topic-tail";

export interface DeadLetterView {
  site: string;
  partition: number;
  offset: string;
  /** When it was dead-lettered. */
  at: string;
  reason: string;
  component: string;
  source: { topic: string; partition: number; offset: string } | undefined;
  callId: string | undefined;
  /** The record's value decoded as an event of its source topic, when it decodes. */
  decoded: unknown;
  /** Why the value does not decode, when it does not. */
  decodeError: string | undefined;
  valueBytes: number;
}

const header = (headers: Record<string, unknown> | undefined, name: string): string | undefined => {
  const value = headers?.[name];
  if (value === undefined || value === null) return undefined;
  return Array.isArray(value) ? value.map(String).join(",") : String(value);
};

/** The newest `limit` dead letters of a site (per partition), newest first, decoded where they decode. */
export async function readDeadLetters(
  kafka: Kafka,
  codec: EventCodec,
  site: string,
  limit: number,
): Promise<DeadLetterView[]> {
  const records = await readTopicTail(kafka, DLQ_TOPIC, { tail: limit });
  const views: DeadLetterView[] = [];
  for (const record of records) {
    const sourceTopic = header(record.headers, DLQ_HEADERS.sourceTopic);
    const source =
      sourceTopic === undefined
        ? undefined
        : {
            topic: sourceTopic,
            partition: Number(header(record.headers, DLQ_HEADERS.sourcePartition)),
            offset: header(record.headers, DLQ_HEADERS.sourceOffset) ?? "",
          };
    let decoded: unknown;
    let decodeError: string | undefined;
    if (source !== undefined && eventKindForTopic(source.topic) !== undefined && record.value !== null) {
      try {
        decoded = (await codec.decode(record.value, source)).event;
      } catch (error) {
        if (!isPermanent(error)) throw error;
        decodeError = error.message;
      }
    }
    views.push({
      site,
      partition: record.partition,
      offset: record.offset,
      at: new Date(Number(record.timestamp)).toISOString(),
      reason: header(record.headers, DLQ_HEADERS.reason) ?? "",
      component: header(record.headers, DLQ_HEADERS.component) ?? "",
      source,
      callId: header(record.headers, DLQ_HEADERS.callId),
      decoded,
      decodeError,
      valueBytes: record.value?.length ?? 0,
    });
  }
  return views.sort((a, b) => b.at.localeCompare(a.at));
}
