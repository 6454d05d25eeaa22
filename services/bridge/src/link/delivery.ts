import type { TopicMessages } from "kafkajs";

export interface SourcePartition {
  topic: string;
  partition: number;
}

/** Writes a source partition's batches to the target. */
export interface PartitionWriter {
  /** The first offset of the source partition that the target has not recorded yet; -1 when unknown. */
  readonly resumeFrom: bigint;
  /**
   * Writes a batch's records, already cut into requests, and `next`, the source offset after the batch;
   * resolves once the target acknowledged it all.
   */
  deliver(requests: TopicMessages[][], next: string): Promise<void>;
}

/** How a link writes to the target: at-least-once, or exactly-once in a transaction with the source offsets. */
export interface Delivery {
  /** Source partitions handled at the same time. */
  readonly partitionsConsumedConcurrently: number;
  /**
   * Whether a partition's next batch may be fetched while one is delivered (see ReadAhead); exactly-once
   * delivers each batch in a transaction with its position, one at a time.
   */
  readonly readsAhead: boolean;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** The source partitions this instance owns since the group's latest assignment. */
  assigned(partitions: SourcePartition[]): void;
  /** The writer of a source partition's next batch: a batch is planned from its `resumeFrom` and delivered by it. */
  writer(at: SourcePartition): Promise<PartitionWriter>;
}

/** The target refused a batch because another writer of its source partition took over since. */
export class FencedError extends Error {
  constructor(
    readonly at: SourcePartition,
    cause: unknown,
  ) {
    super(`fenced: a newer writer of ${at.topic}/${at.partition} took over`, { cause });
    this.name = "FencedError";
  }
}

/** Whether a Kafka error code is among `codes`, anywhere in the error's chain of causes (kafkajs wraps). */
export function hasKafkaErrorCode(error: unknown, codes: ReadonlySet<number>): boolean {
  for (let e = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (codes.has((e as { code?: number }).code ?? -1)) return true;
  }
  return false;
}
