import type { IHeaders, Message } from "kafkajs";

/** Headers of a `tandem.dlq` record, the same whichever part of Tandem gave up on it. */
export const DLQ_HEADERS = {
  reason: "tandem-dlq-reason",
  site: "tandem-dlq-site",
  component: "tandem-dlq-component",
  sourceTopic: "tandem-dlq-source-topic",
  sourcePartition: "tandem-dlq-source-partition",
  sourceOffset: "tandem-dlq-source-offset",
  callId: "tandem-dlq-call-id",
} as const;

export interface DeadLetter {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: IHeaders;
  reason: string;
  /** The site whose DLQ receives it. */
  site: string;
  /** Which part gave up, e.g. `bridge nyc->lon` or `materializer lon`. */
  component: string;
  /** Where the record was read, so that it can be found and replayed. */
  source?: { topic: string; partition: number; offset: string };
  callId?: string;
}

/** The record for `tandem.dlq`: the original bytes and headers, plus why and where from. */
export function deadLetterMessage(letter: DeadLetter): Message {
  const headers: IHeaders = {
    ...letter.headers,
    [DLQ_HEADERS.reason]: letter.reason,
    [DLQ_HEADERS.site]: letter.site,
    [DLQ_HEADERS.component]: letter.component,
  };
  if (letter.source !== undefined) {
    headers[DLQ_HEADERS.sourceTopic] = letter.source.topic;
    headers[DLQ_HEADERS.sourcePartition] = String(letter.source.partition);
    headers[DLQ_HEADERS.sourceOffset] = letter.source.offset;
  }
  if (letter.callId !== undefined) headers[DLQ_HEADERS.callId] = letter.callId;
  return { key: letter.key, value: letter.value, headers };
}
