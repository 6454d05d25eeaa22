import type { Kafka, Producer, TopicMessages } from "kafkajs";
import type { Delivery, PartitionWriter } from "./delivery";

/** Idempotent writes acknowledged by every replica; the source offsets are committed afterwards. */
export class AtLeastOnceDelivery implements Delivery {
  private readonly producer: Producer;
  readonly readsAhead = true;
  /** Every partition's: the target keeps no position, so every batch is forwarded whole. */
  private readonly shared: PartitionWriter;

  constructor(
    kafka: Kafka,
    readonly partitionsConsumedConcurrently: number,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.shared = {
      resumeFrom: -1n,
      deliver: async (requests: TopicMessages[][]) => {
        for (const topicMessages of requests) await this.producer.sendBatch({ topicMessages, acks: -1 });
      },
    };
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  assigned(): void {}

  writer(): Promise<PartitionWriter> {
    return Promise.resolve(this.shared);
  }
}
