import type { Kafka, Producer, TopicMessages } from "kafkajs";
import { hasKafkaErrorCode, type Delivery, type PartitionWriter } from "./delivery";
import { ProduceCoalescer } from "./produce-coalescer";

/**
 * OUT_OF_ORDER_SEQUENCE_NUMBER and UNKNOWN_PRODUCER_ID: the broker no longer knows where this producer's
 * sequence stands (a partition deleted and created again, a producer id expired after a long idle link).
 * Kafka's own clients take a new producer id then; kafkajs keeps the old one, and every retry is refused.
 */
const PRODUCER_STATE_LOST = new Set([45, 59]);

/** Idempotent writes acknowledged by every replica; the source offsets are committed afterwards. */
export class AtLeastOnceDelivery implements Delivery {
  private producer: Producer;
  /** The current producer's connection, started once; cleared when it failed, so the next batch tries again. */
  private connection: Promise<void> | undefined;
  readonly readsAhead = true;
  /** Every partition's: the target keeps no position, so every batch is forwarded whole. */
  private readonly shared: PartitionWriter;
  /** The partitions' concurrent batches, sent together. */
  private readonly coalescer = new ProduceCoalescer((topicMessages) => this.send(topicMessages));

  constructor(
    private readonly kafka: Kafka,
    readonly partitionsConsumedConcurrently: number,
  ) {
    this.producer = this.newProducer();
    this.shared = {
      resumeFrom: -1n,
      deliver: async (requests: TopicMessages[][]) => {
        for (const topicMessages of requests) await this.coalescer.write(topicMessages);
      },
    };
  }

  private async send(topicMessages: TopicMessages[]): Promise<void> {
    await this.connect();
    const producer = this.producer;
    try {
      await producer.sendBatch({ topicMessages, acks: -1 });
    } catch (error) {
      // The batch is retried by the link, with the new producer: at least once, as before.
      if (hasKafkaErrorCode(error, PRODUCER_STATE_LOST)) this.replace(producer);
      throw error;
    }
  }

  connect(): Promise<void> {
    if (this.connection === undefined) {
      const connection = this.producer.connect();
      this.connection = connection;
      connection.catch(() => {
        if (this.connection === connection) this.connection = undefined;
      });
    }
    return this.connection;
  }

  disconnect(): Promise<void> {
    this.connection = undefined;
    return this.producer.disconnect();
  }

  assigned(): void {}

  writer(): Promise<PartitionWriter> {
    return Promise.resolve(this.shared);
  }

  private newProducer(): Producer {
    return this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  /** Partitions delivering at the same time may all see the error: the first replaces the producer. */
  private replace(failed: Producer): void {
    if (this.producer !== failed) return;
    this.producer = this.newProducer();
    this.connection = undefined;
    void failed.disconnect().catch(() => {});
  }
}
