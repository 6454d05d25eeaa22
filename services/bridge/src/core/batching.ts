import type { IHeaders, Message, TopicMessages } from "kafkajs";

/** Framing of one record in a record batch (lengths, offsets, attributes), a safe overestimate. */
const RECORD_OVERHEAD_BYTES = 64;

type Routed = Message & { topic: string };

function sizeOf(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "string" ? Buffer.byteLength(value) : value.length;
}

function headerBytes(headers: IHeaders | undefined): number {
  let bytes = 0;
  for (const [key, value] of Object.entries(headers ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) bytes += Buffer.byteLength(key) + sizeOf(v);
  }
  return bytes;
}

export function recordBytes(message: Message): number {
  return sizeOf(message.key) + sizeOf(message.value) + headerBytes(message.headers) + RECORD_OVERHEAD_BYTES;
}

/** Splits records, in order, into requests of at most `maxBytes` each (a larger record goes alone). */
export function chunkBySize(messages: Routed[], maxBytes: number): TopicMessages[][] {
  const chunks: Routed[][] = [];
  let current: Routed[] = [];
  let currentBytes = 0;
  for (const message of messages) {
    const bytes = recordBytes(message);
    if (current.length > 0 && currentBytes + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(message);
    currentBytes += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks.map(groupByTopic);
}

function groupByTopic(messages: Routed[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, ...message } of messages) {
    const list = byTopic.get(topic) ?? [];
    list.push(message);
    byTopic.set(topic, list);
  }
  return [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
}
