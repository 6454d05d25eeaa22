import type { TopicMessages } from "kafkajs";

/** A source partition's batch, as the target records it. */
export interface SourcePosition {
  topic: string;
  partition: number;
  /** The source offset after the batch. */
  next: string;
}

/** How a link writes to the target: at-least-once, or exactly-once in a transaction with the source offsets. */
export interface Delivery {
  /** Source partitions handled at the same time. */
  readonly partitionsConsumedConcurrently: number;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** The first offset of a source partition that the target has not recorded yet; -1 when unknown. */
  resumeFrom(topic: string, partition: number): Promise<bigint>;
  /** Writes a batch's records, already cut into requests; resolves once the target acknowledged it all. */
  deliver(requests: TopicMessages[][], position: SourcePosition): Promise<void>;
  /** After a rebalance, what is known of the partitions is learnt again. */
  forget(): void;
}
