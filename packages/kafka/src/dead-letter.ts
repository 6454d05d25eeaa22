import type { IHeaders, Message } from "kafkajs";

export const DLQ_REASON_HEADER = "tandem-dlq-reason";
export const DLQ_SOURCE_HEADER = "tandem-dlq-source";
export const DLQ_COMPONENT_HEADER = "tandem-dlq-component";

export interface DeadLetter {
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
  reason: string;
  /** Where the record was read, so that it can be found and replayed. */
  source: { site: string; topic: string; partition: number; offset: string };
  /** Which part of Tandem gave up on it, e.g. `bridge nyc->lon` or `materializer lon`. */
  component: string;
}

/** The record for `tandem.dlq`: the original bytes and headers, plus why and where from. */
export function deadLetterMessage(letter: DeadLetter): Message {
  const { site, topic, partition, offset } = letter.source;
  return {
    key: letter.key,
    value: letter.value,
    headers: {
      ...letter.headers,
      [DLQ_REASON_HEADER]: letter.reason,
      [DLQ_SOURCE_HEADER]: `${site}/${topic}/${partition}/${offset}`,
      [DLQ_COMPONENT_HEADER]: letter.component,
    },
  };
}
