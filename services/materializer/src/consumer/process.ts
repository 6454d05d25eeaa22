import type pg from "pg";
import type { Producer } from "kafkajs";
import type { MergePolicy } from "@tandem/config";
import { DLQ_TOPIC, type EventCodec, type TandemEvent } from "@tandem/events";
import { isPermanent } from "@tandem/runtime";
import { inadmissibleReason } from "../core/admission";
import type { DecodedRecord } from "../core/batch";
import { applyEvents } from "../db/apply";
import { dlqMessageForRecord, type RawRecord } from "./dlq";

/**
 * A record becomes an event or a reason to dead-letter it. Only permanent faults become reasons; a
 * registry outage (RegistryError) and anything unexpected are thrown, so the batch is retried.
 */
export async function decodeRecord(codec: EventCodec, record: RawRecord): Promise<DecodedRecord<RawRecord>> {
  let event: TandemEvent;
  try {
    event = await codec.decode(record.value, record);
  } catch (error) {
    if (isPermanent(error)) return { record, ok: false, reason: error.message };
    throw error;
  }
  const reason = inadmissibleReason(event);
  return reason === undefined ? { record, ok: true, event } : { record, ok: false, reason };
}

export interface BatchOutcome {
  callsInserted: number;
  usersChanged: number;
  dlq: number;
  appliedPerTopic: Map<string, number>;
}

/**
 * Applies one consumed batch: every event in one transaction (see `applyEvents`), then the records that
 * could not be decoded or that PostgreSQL refused to the DLQ (acked) before the batch counts as done.
 * Safe to repeat, a repeated DLQ record included.
 */
export async function processBatch(deps: {
  site: string;
  codec: EventCodec;
  pool: pg.Pool;
  producer: Producer;
  policy: MergePolicy;
  records: readonly RawRecord[];
}): Promise<BatchOutcome> {
  const decoded = await Promise.all(deps.records.map((record) => decodeRecord(deps.codec, record)));
  const events = decoded.filter((item) => item.ok);
  const applied = await applyEvents(deps.pool, deps.policy, events);
  const dlq = [...decoded.filter((item) => !item.ok), ...applied.refused];
  if (dlq.length > 0) {
    await deps.producer.send({
      topic: DLQ_TOPIC,
      acks: -1,
      messages: dlq.map(({ record, reason }) => dlqMessageForRecord(record, reason, deps.site)),
    });
  }
  const refused = new Set(applied.refused.map(({ record }) => record));
  const appliedPerTopic = new Map<string, number>();
  for (const { record } of events) {
    if (!refused.has(record)) appliedPerTopic.set(record.topic, (appliedPerTopic.get(record.topic) ?? 0) + 1);
  }
  return {
    callsInserted: applied.callsInserted,
    usersChanged: applied.usersChanged,
    dlq: dlq.length,
    appliedPerTopic,
  };
}
