import type { Kafka, Producer, TopicMessages } from "kafkajs";
import type { Delivery } from "./delivery";

/** Idempotent writes acknowledged by every replica; the source offsets are committed afterwards. */
export class AtLeastOnceDelivery implements Delivery {
  private readonly producer: Producer;

  constructor(
    kafka: Kafka,
    readonly partitionsConsumedConcurrently: number,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  resumeFrom(): Promise<bigint> {
    return Promise.resolve(-1n);
  }

  async deliver(requests: TopicMessages[][]): Promise<void> {
    for (const topicMessages of requests) await this.producer.sendBatch({ topicMessages, acks: -1 });
  }

  forget(): void {}
}
