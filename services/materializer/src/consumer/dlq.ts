/** Dead-letter records of the materializer, in the shared `tandem.dlq` format of @tandem/kafka. */
import type { IHeaders, Message } from "kafkajs";
import { deadLetterMessage } from "@tandem/kafka";

export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

const component = (site: string) => `materializer ${site}`;

/** The record's key, value and headers unchanged, plus why and where it failed. */
export function dlqMessageForRecord(record: RawRecord, reason: string, site: string): Message {
  const { topic, partition, offset } = record;
  return deadLetterMessage({
    key: record.key,
    value: record.value,
    headers: record.headers,
    reason,
    site,
    component: component(site),
    source: { topic, partition, offset },
  });
}

/** A call whose audio never became reachable: the value is a JSON summary, keyed by the call id. */
export function dlqMessageForAudio(
  call: { callId: string; tenantId: string; originSite: string; originKey: string; sha256: string },
  reason: string,
  site: string,
): Message {
  return deadLetterMessage({
    key: call.callId,
    value: JSON.stringify({ kind: "audio-unreachable", ...call, reason }),
    reason: `audio unreachable within the retry budget: ${reason}`,
    site,
    component: component(site),
    callId: call.callId,
  });
}
