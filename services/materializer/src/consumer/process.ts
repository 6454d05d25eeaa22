import type pg from "pg";
import type { Producer } from "kafkajs";
import type { MergePolicy } from "@tandem/config";
import { DLQ_TOPIC, DecodeError, audioObjectKey, type EventCodec } from "@tandem/events";
import { planBatch, type DecodedRecord } from "../core/batch";
import { insertCalls } from "../db/calls";
import { inTransaction } from "../db/pool";
import { isRecordFault } from "../db/record-fault";
import { applyUserEvents } from "../db/users";
import { dlqMessageForRecord, type RawRecord } from "./dlq";

/**
 * A record becomes an event or a reason to dead-letter it. Only permanent faults become reasons; a
 * registry outage (RegistryError) and anything unexpected are thrown, so the batch is retried.
 */
export async function decodeRecord(codec: EventCodec, record: RawRecord): Promise<DecodedRecord<RawRecord>> {
  try {
    const event = await codec.decode(record.value, record);
    if (event.kind === "CallCompleted") {
      const { tenantId, startedAtMs, callId } = event.event;
      audioObjectKey(tenantId, startedAtMs, callId);
    }
    return { record, ok: true, event };
  } catch (error) {
    if (error instanceof DecodeError || (error instanceof Error && error.name === "AudioKeyError")) {
      return { record, ok: false, reason: error.message };
    }
    throw error;
  }
}

export interface BatchOutcome {
  callsInserted: number;
  usersChanged: number;
  dlq: number;
  appliedPerTopic: Map<string, number>;
}

type BatchDeps = {
  site: string;
  codec: EventCodec;
  pool: pg.Pool;
  producer: Producer;
  policy: MergePolicy;
};

/**
 * Applies one consumed batch: bad records to the DLQ first (acked), then every event in one transaction.
 * Safe to repeat: calls are inserted once, user events are idempotent, a repeated DLQ record is harmless.
 */
export async function processBatch(
  deps: BatchDeps & { records: readonly RawRecord[] },
): Promise<BatchOutcome> {
  const decoded = await Promise.all(deps.records.map((record) => decodeRecord(deps.codec, record)));
  try {
    return await applyDecoded(deps, decoded);
  } catch (error) {
    if (!isRecordFault(error)) throw error;
    // Some record of the batch is one PostgreSQL refuses: written one at a time, the others still land.
    return applyOneByOne(deps, decoded);
  }
}

async function applyDecoded(
  deps: BatchDeps,
  decoded: readonly DecodedRecord<RawRecord>[],
): Promise<BatchOutcome> {
  const plan = planBatch(decoded);
  if (plan.dlq.length > 0) {
    await deps.producer.send({
      topic: DLQ_TOPIC,
      acks: -1,
      messages: plan.dlq.map(({ record, reason }) => dlqMessageForRecord(record, reason, deps.site)),
    });
  }
  const { callsInserted, usersChanged } = await inTransaction(deps.pool, async (client) => {
    const callsInserted = plan.calls.length > 0 ? await insertCalls(client, plan.calls) : 0;
    let usersChanged = 0;
    for (const user of plan.users) {
      if (await applyUserEvents(client, user.events, deps.policy)) usersChanged++;
    }
    return { callsInserted, usersChanged };
  });
  return { callsInserted, usersChanged, dlq: plan.dlq.length, appliedPerTopic: plan.appliedPerTopic };
}

async function applyOneByOne(
  deps: BatchDeps,
  decoded: readonly DecodedRecord<RawRecord>[],
): Promise<BatchOutcome> {
  const total: BatchOutcome = { callsInserted: 0, usersChanged: 0, dlq: 0, appliedPerTopic: new Map() };
  for (const item of decoded) {
    let outcome: BatchOutcome;
    try {
      outcome = await applyDecoded(deps, [item]);
    } catch (error) {
      if (!isRecordFault(error)) throw error;
      const reason = `PostgreSQL refused the event: ${error.message} (SQLSTATE ${error.code})`;
      outcome = await applyDecoded(deps, [{ record: item.record, ok: false, reason }]);
    }
    total.callsInserted += outcome.callsInserted;
    total.usersChanged += outcome.usersChanged;
    total.dlq += outcome.dlq;
    for (const [topic, count] of outcome.appliedPerTopic) {
      total.appliedPerTopic.set(topic, (total.appliedPerTopic.get(topic) ?? 0) + count);
    }
  }
  return total;
}
