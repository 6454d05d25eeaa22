import type { Admin, Kafka, Producer, TopicMessages } from "kafkajs";
import type { Delivery, SourcePosition } from "./delivery";

const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * One target transaction per batch, holding its records and the source offsets (in the target's
 * `eosGroupId`): a batch is at the target whole or not at all, and what the target recorded is never
 * written again.
 */
export class ExactlyOnceDelivery implements Delivery {
  readonly partitionsConsumedConcurrently = 1;
  private producer: Producer | undefined;
  /** For each source partition, the next offset the target has recorded; lower ones are done. */
  private readonly recorded = new Map<string, bigint>();

  constructor(
    private readonly kafka: Kafka,
    private readonly targetAdmin: Admin,
    private readonly ids: { transactionalId: string; eosGroupId: string },
  ) {}

  async connect(): Promise<void> {
    this.producer ??= this.kafka.producer({
      transactionalId: this.ids.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer?.disconnect();
  }

  async resumeFrom(topic: string, partition: number): Promise<bigint> {
    const key = partitionKey(topic, partition);
    const cached = this.recorded.get(key);
    if (cached !== undefined) return cached;
    const offsets = await this.targetAdmin.fetchOffsets({ groupId: this.ids.eosGroupId, topics: [topic] });
    const offset = offsets[0]?.partitions.find((p) => p.partition === partition)?.offset ?? "-1";
    const next = BigInt(offset) < 0n ? -1n : BigInt(offset);
    this.recorded.set(key, next);
    return next;
  }

  async deliver(requests: TopicMessages[][], { topic, partition, next }: SourcePosition): Promise<void> {
    const transaction = await this.producer!.transaction();
    try {
      for (const topicMessages of requests) await transaction.sendBatch({ topicMessages });
      await transaction.sendOffsets({
        consumerGroupId: this.ids.eosGroupId,
        topics: [{ topic, partitions: [{ partition, offset: next }] }],
      });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => {});
      await this.reset().catch(() => {});
      throw error;
    }
    this.recorded.set(partitionKey(topic, partition), BigInt(next));
  }

  forget(): void {
    this.recorded.clear();
  }

  /** A transactional producer left in an unknown state by an outage is replaced, not reused. */
  private async reset(): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    await old?.disconnect().catch(() => {});
    await this.connect();
  }
}
