import type { Admin, Kafka, Producer, TopicMessages, Transaction } from "kafkajs";
import type { Logger } from "@tandem/runtime";
import {
  FencedError,
  hasKafkaErrorCode,
  type Delivery,
  type PartitionWriter,
  type SourcePartition,
} from "./delivery";

const partitionKey = ({ topic, partition }: SourcePartition) => `${topic}\u0000${partition}`;

/** kafkajs names the old code (47); brokers send PRODUCER_FENCED (90) to newer clients. */
const FENCED_CODES = new Set([47, 90]);

/**
 * One target transaction per batch, holding its records and the source offsets (in the target's
 * `eosGroupId`): a batch is at the target whole or not at all, and what the target recorded is never
 * written again.
 *
 * Each source partition has its own transactional id, so whichever instance owns the partition writes as
 * the same producer. Taking a partition starts a producer under its id (InitProducerId): the broker aborts
 * the previous owner's open transaction, or completes its commit, and refuses that owner's writes from then
 * on. Only then is the target's position read, so it is complete; it is trusted only while the producer
 * that read it is the partition's writer here: a new one is started at each assignment and after any failure.
 *
 * kafkajs's `producer.connect()` does not do that InitProducerId: it asks for a plain idempotent producer
 * id, without the transactional id, and the transactional one waits for the producer's first
 * `transaction()`. A position read after `connect()` alone could be overtaken by the previous owner's
 * commit (still unfenced, or a commit the broker completes at the fence), and its records written again.
 */
export class ExactlyOnceDelivery implements Delivery {
  private readonly writers = new Map<string, Promise<TransactionalWriter>>();
  readonly readsAhead = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly targetAdmin: Admin,
    private readonly ids: {
      transactionalId: (partition: SourcePartition) => string;
      eosGroupId: string;
    },
    private readonly logger: Logger,
    /** Each partition has its own producer: their transactions run side by side. */
    readonly partitionsConsumedConcurrently: number,
  ) {}

  /** Writers start with the partitions they write for (`assigned`). */
  async connect(): Promise<void> {}

  async disconnect(): Promise<void> {
    const writers = [...this.writers.values()];
    this.writers.clear();
    await Promise.all(writers.map(release));
  }

  assigned(partitions: SourcePartition[]): void {
    // Even a partition kept may have been another instance's in between (this one paused past its session).
    for (const writer of this.writers.values()) void release(writer);
    this.writers.clear();
    // At once rather than at the first batch: an open transaction of the previous owner holds back every
    // read_committed consumer of its target partitions until it is aborted.
    for (const partition of partitions) this.writer(partition).catch(() => {});
  }

  writer(at: SourcePartition): Promise<PartitionWriter> {
    const key = partitionKey(at);
    const existing = this.writers.get(key);
    if (existing !== undefined) return existing;
    const started = this.startWriter(at, () => this.writers.get(key) === started);
    this.writers.set(key, started);
    // Whatever ended a writer (a failed start, an outage, a fence), the next batch starts a new one.
    const drop = () => {
      if (this.writers.get(key) === started) this.writers.delete(key);
    };
    void started.then((w) => w.ended.then(drop), drop);
    return started;
  }

  private async startWriter(at: SourcePartition, current: () => boolean): Promise<TransactionalWriter> {
    const transactionalId = this.ids.transactionalId(at);
    const producer = this.kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
    try {
      await producer.connect();
      // InitProducerId with the transactional id: fences the previous owner and settles its open transaction,
      // before the read below. kafkajs sends it at the first `transaction()`; one with nothing in it ends
      // without a request.
      await (await producer.transaction()).abort();
      const resumeFrom = await this.recordedAt(at);
      this.logger.debug(
        { ...at, transactionalId, resumeFrom: String(resumeFrom) },
        "partition writer started",
      );
      return new TransactionalWriter(at, producer, resumeFrom, this.ids.eosGroupId, current);
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw error;
    }
  }

  /** The next source offset the target recorded for a partition; -1 when none. */
  private async recordedAt({ topic, partition }: SourcePartition): Promise<bigint> {
    const offsets = await this.targetAdmin.fetchOffsets({ groupId: this.ids.eosGroupId, topics: [topic] });
    const offset = offsets[0]?.partitions.find((p) => p.partition === partition)?.offset ?? "-1";
    return BigInt(offset) < 0n ? -1n : BigInt(offset);
  }
}

/** A source partition's transactional producer, from its start to its first failure. */
class TransactionalWriter implements PartitionWriter {
  private end!: () => void;
  /** Resolves once the writer can no longer be used: its producer is disconnected. */
  readonly ended = new Promise<void>((resolve) => (this.end = resolve));

  constructor(
    private readonly at: SourcePartition,
    private readonly producer: Producer,
    public resumeFrom: bigint,
    private readonly eosGroupId: string,
    /** False once an assignment replaced this writer in its delivery. */
    private readonly current: () => boolean,
  ) {}

  async deliver(requests: TopicMessages[][], next: string): Promise<void> {
    // A batch planned from a replaced writer's position is planned again from its successor's.
    if (!this.current()) throw new Error(`the writer of ${this.at.topic}/${this.at.partition} was replaced`);
    // The target already recorded the whole batch (a batch read again from a source offset behind it):
    // writing its end as the position would move the position back, and records after it would be
    // written again by whoever resumes from there.
    if (BigInt(next) <= this.resumeFrom) return;
    const { topic, partition } = this.at;
    let transaction: Transaction | undefined;
    try {
      transaction = await this.producer.transaction();
      for (const topicMessages of requests) await transaction.sendBatch({ topicMessages });
      await transaction.sendOffsets({
        consumerGroupId: this.eosGroupId,
        topics: [{ topic, partitions: [{ partition, offset: next }] }],
      });
      await transaction.commit();
    } catch (error) {
      await transaction?.abort().catch(() => {});
      // Fenced by this process's own successor (a new assignment) is no news; by another instance, it is.
      const fenced = hasKafkaErrorCode(error, FENCED_CODES) && this.current();
      // Whether or not the commit landed, the successor reads the position again.
      await this.close();
      if (fenced) throw new FencedError(this.at, error);
      throw error;
    }
    this.resumeFrom = BigInt(next);
  }

  async close(): Promise<void> {
    this.end();
    await this.producer.disconnect().catch(() => {});
  }
}

const release = (writer: Promise<TransactionalWriter>): Promise<void> =>
  writer.then(
    (w) => w.close(),
    () => {},
  );
