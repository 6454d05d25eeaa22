import type { TopicMessages } from "kafkajs";

interface Part {
  topicMessages: TopicMessages[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * One produce request for the partitions that deliver at the same time. A producer with one request in
 * flight (what keeps an idempotent producer's order in kafkajs) sends the batches of one fetch one after
 * another, a round trip to the target each; Kafka's own producer sends them together. What arrives while a
 * request is out waits for it and goes in the next one.
 *
 * A merged request that fails is sent again part by part, so that one partition's lasting refusal (a
 * record too large for its topic) fails that partition's delivery alone. Parts the broker had written
 * before the failure may then be written twice: at-least-once, like any retried batch.
 */
export class ProduceCoalescer {
  private waiting: Part[] = [];
  private sending = false;

  constructor(private readonly send: (topicMessages: TopicMessages[]) => Promise<void>) {}

  /** Resolves once the target acknowledged these messages. */
  write(topicMessages: TopicMessages[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ topicMessages, resolve, reject });
      // After the current turn of the event loop: the partitions of a fetch, planned together, join in.
      if (!this.sending && this.waiting.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    if (this.sending || this.waiting.length === 0) return;
    this.sending = true;
    const parts = this.waiting;
    this.waiting = [];
    try {
      if (parts.length === 1) await this.sendAlone(parts[0]!);
      else await this.sendMerged(parts);
    } finally {
      this.sending = false;
      void this.flush();
    }
  }

  private async sendMerged(parts: Part[]): Promise<void> {
    try {
      await this.send(parts.flatMap((part) => part.topicMessages));
    } catch {
      await Promise.all(parts.map((part) => this.sendAlone(part)));
      return;
    }
    for (const part of parts) part.resolve();
  }

  private async sendAlone(part: Part): Promise<void> {
    try {
      await this.send(part.topicMessages);
      part.resolve();
    } catch (error) {
      part.reject(error);
    }
  }
}
