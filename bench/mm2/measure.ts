import type { Admin, Consumer, Kafka } from "kafkajs";

export interface Arrival {
  /** Wall-clock ms when the first record was visible at the target. */
  firstAt: number;
  /** Wall-clock ms when the last expected record was visible at the target. */
  lastAt: number;
  /** Records in the target topic at the end (more than expected means duplicates). */
  total: number;
}

export async function endOffsetSum(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

/**
 * Waits until `expected` records are in the target topic, polling its end offsets: the broker's own
 * count, so the figure does not depend on how fast a consumer here could read them.
 */
export async function waitForRecords(options: {
  admin: Admin;
  topic: string;
  expected: number;
  pollMs?: number;
  stallMs?: number;
  onProgress?: (count: number, firstAt: number | undefined) => void;
  failed?: () => string | undefined;
  /** The mirror's log, named in errors. */
  logFile?: string;
}): Promise<Arrival> {
  const { admin, topic, expected } = options;
  const pollMs = options.pollMs ?? 50;
  const stallMs = options.stallMs ?? 90_000;
  let firstAt: number | undefined;
  let count = 0;
  let progressAt = Date.now();
  for (;;) {
    const now = Date.now();
    const seen = await endOffsetSum(admin, topic);
    if (seen > count) {
      count = seen;
      progressAt = now;
      firstAt ??= now;
    }
    options.onProgress?.(count, firstAt);
    if (count >= expected && firstAt !== undefined) return { firstAt, lastAt: now, total: count };
    const failure = options.failed?.();
    const where = options.logFile === undefined ? "" : ` (see ${options.logFile})`;
    if (failure !== undefined) {
      throw new Error(`${failure} with ${count}/${expected} records at ${topic}${where}`);
    }
    if (now - progressAt > stallMs) {
      throw new Error(
        `no progress for ${stallMs / 1000} s: ${count}/${expected} records at ${topic}${where}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * Consumes the target topic from given offsets and records, per record, arrival time minus the record's
 * timestamp (set by the producer at the source, kept by both mirrors): end-to-end latency.
 */
export class LatencyProbe {
  readonly latenciesMs: number[] = [];
  private consumer?: Consumer;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly groupId: string,
  ) {}

  async start(fromOffsets: Array<{ partition: number; offset: string }>): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 100, minBytes: 1 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: false });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const arrival = Date.now();
        for (const message of batch.messages) this.latenciesMs.push(arrival - Number(message.timestamp));
      },
    });
    for (const { partition, offset } of fromOffsets) consumer.seek({ topic: this.topic, partition, offset });
    await joined;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1)] ?? Number.NaN;
}
