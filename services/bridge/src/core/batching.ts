type Bytes = Buffer | string | null | undefined;

/** What sizing needs of a record; the Kafka client's message type fits it. */
export interface SizedRecord {
  key?: Bytes;
  value: Bytes;
  headers?: Record<string, Bytes | Bytes[]>;
}

/** Framing of one record in a record batch (lengths, offsets, attributes), a safe overestimate. */
const RECORD_OVERHEAD_BYTES = 64;

function sizeOf(value: Bytes): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "string" ? Buffer.byteLength(value) : value.length;
}

function headerBytes(headers: SizedRecord["headers"]): number {
  let bytes = 0;
  for (const [key, value] of Object.entries(headers ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) bytes += Buffer.byteLength(key) + sizeOf(v);
  }
  return bytes;
}

export function recordBytes(message: SizedRecord): number {
  return sizeOf(message.key) + sizeOf(message.value) + headerBytes(message.headers) + RECORD_OVERHEAD_BYTES;
}

/** Splits records, in order, into requests of at most `maxBytes` each (a larger record goes alone). */
export function chunkBySize<M extends SizedRecord>(
  messages: Array<M & { topic: string }>,
  maxBytes: number,
): Array<Array<{ topic: string; messages: M[] }>> {
  const chunks: Array<Array<M & { topic: string }>> = [];
  let current: Array<M & { topic: string }> = [];
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

function groupByTopic<M extends SizedRecord>(
  messages: Array<M & { topic: string }>,
): Array<{ topic: string; messages: M[] }> {
  const byTopic = new Map<string, M[]>();
  for (const { topic, ...message } of messages) {
    const list = byTopic.get(topic) ?? [];
    list.push(message as unknown as M);
    byTopic.set(topic, list);
  }
  return [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
}
