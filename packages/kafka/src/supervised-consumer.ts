import { setTimeout as sleep } from "node:timers/promises";
import type {
  Consumer,
  ConsumerConfig,
  ConsumerRunConfig,
  EachBatchPayload,
  Kafka,
  TopicPartitionOffsetAndMetadata,
} from "kafkajs";
import { DEFAULT_BACKOFF, backoffDelay, retryWithBackoff, type BackoffPolicy } from "@tandem/runtime";
import { REPLACED_ON_CRASH, runConsumer } from "./consumers";

/** Longest wait between heartbeats to the group while a batch is retried. */
const HEARTBEAT_SLICE_MS = 2000;

export interface SupervisedConsumerOptions {
  kafka: Kafka;
  /** The kafkajs consumer's settings; its retry is always REPLACED_ON_CRASH's, with `retries` if given. */
  consumer: Omit<ConsumerConfig, "retry">;
  retries?: number;
  run: ConsumerRunConfig;
  fromBeginning?: boolean;
  /** The topics to consume: asked at each start, and every `topicRefreshMs` when given (a change resubscribes). */
  wantedTopics: () => Promise<string[]>;
  topicRefreshMs?: number;
  /** Between attempts to replace a consumer, and between attempts of a batch. */
  backoff?: BackoffPolicy;
  events?: {
    /** Each new consumer before it connects: a replacement is a new consumer and needs its listeners again. */
    created?: (consumer: Consumer) => void;
    crashed?: (error: Error) => void;
    /** A replacement failed to start; another attempt follows. */
    replacementFailed?: (attempt: number, error: unknown) => void;
    resubscribing?: (topics: string[]) => void;
    topicCheckFailed?: (error: unknown) => void;
    consuming?: (topics: string[]) => void;
  };
}

/**
 * A long-lived kafkajs consumer that its owner keeps running: kafkajs never restarts it (see
 * REPLACED_ON_CRASH); a crashed consumer is replaced, with backoff, by a new member of the same group. kafkajs
 * matches a subscription only against the topics existing when it subscribes, so the wanted topics are
 * checked periodically and a consumer that subscribed to others is replaced too.
 */
export class SupervisedConsumer {
  private readonly stopping = new AbortController();
  private consumer: Consumer | undefined;
  private subscribed: string[] = [];
  private paused = false;
  private replacing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SupervisedConsumerOptions) {}

  /** The topics of the consumer that runs; none while it is being replaced. */
  get topics(): string[] {
    return this.subscribed;
  }

  /** Starts the first consumer: one attempt, which fails when it cannot join the group. */
  async start(): Promise<void> {
    await this.startConsumer();
    const { topicRefreshMs } = this.options;
    if (topicRefreshMs !== undefined && this.timer === undefined) {
      this.timer = setInterval(() => void this.checkTopics(), topicRefreshMs);
    }
  }

  /** Finishes the batch in flight (the consumer's disconnect waits for it), then leaves the group. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.timer);
    await this.replacing;
    await this.consumer?.disconnect().catch(() => {});
    this.consumer = undefined;
    this.subscribed = [];
  }

  /** Pauses every subscribed topic, also those of a consumer that replaces this one. */
  pause(): void {
    this.paused = true;
    this.consumer?.pause(this.subscribed.map((topic) => ({ topic })));
  }

  resume(): void {
    this.paused = false;
    this.consumer?.resume(this.subscribed.map((topic) => ({ topic })));
  }

  async commitOffsets(offsets: TopicPartitionOffsetAndMetadata[]): Promise<void> {
    if (this.consumer === undefined) throw new Error("no consumer is running");
    await this.consumer.commitOffsets(offsets);
  }

  /**
   * Runs a batch's work until it succeeds, backing off between attempts and heartbeating the group while it
   * waits. Undefined when the batch is abandoned uncommitted, because its consumer stopped or its partition
   * moved: the partition's next reader starts from the committed offset, whereas retrying would hold up the
   * consumer's stop (and its replacement) forever.
   */
  async retryBatch<T>(
    payload: EachBatchPayload,
    work: () => Promise<T>,
    options: {
      policy?: BackoffPolicy;
      onRetry?: (attempt: number, error: unknown, waitMs: number) => void;
    } = {},
  ): Promise<T | undefined> {
    const policy = options.policy ?? this.options.backoff ?? DEFAULT_BACKOFF;
    const abandoned = () => this.stopping.signal.aborted || !payload.isRunning() || payload.isStale();
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        const waitMs = backoffDelay(Math.min(attempt - 1, 30), Math.random, policy);
        options.onRetry?.(attempt, error, waitMs);
        for (let left = waitMs; left > 0; left -= HEARTBEAT_SLICE_MS) {
          if (abandoned()) return undefined;
          await sleep(Math.min(left, HEARTBEAT_SLICE_MS), undefined, { signal: this.stopping.signal }).catch(
            () => {},
          );
          await payload.heartbeat().catch(() => {});
        }
        if (abandoned()) return undefined;
      }
    }
  }

  private async startConsumer(): Promise<void> {
    const { kafka, events } = this.options;
    const topics = await this.options.wantedTopics();
    const consumer = kafka.consumer({
      ...this.options.consumer,
      retry: { ...REPLACED_ON_CRASH, retries: this.options.retries ?? REPLACED_ON_CRASH.retries },
    });
    // A crashed consumer has already disconnected (kafkajs does not restart it): a new one takes its place.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      events?.crashed?.(payload.error);
      if (this.consumer === consumer && !this.stopping.signal.aborted) void this.replace();
    });
    events?.created?.(consumer);
    try {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: this.options.fromBeginning });
      await runConsumer(consumer, this.options.run);
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      throw error;
    }
    if (this.stopping.signal.aborted) {
      await consumer.disconnect().catch(() => {});
      return;
    }
    this.consumer = consumer;
    this.subscribed = topics;
    if (this.paused) consumer.pause(topics.map((topic) => ({ topic })));
    events?.consuming?.(topics);
  }

  private replace(): Promise<void> {
    this.replacing ??= (async () => {
      try {
        // Stopping the old consumer finishes and commits its batch in flight before the new one joins.
        await this.consumer?.disconnect().catch(() => {});
        this.consumer = undefined;
        this.subscribed = [];
        await retryWithBackoff(() => this.startConsumer(), {
          policy: this.options.backoff,
          signal: this.stopping.signal,
          onRetry: (attempt, error) => this.options.events?.replacementFailed?.(attempt, error),
        });
      } catch {
        // Only a stop ends the attempts.
      } finally {
        this.replacing = undefined;
      }
    })();
    return this.replacing;
  }

  private async checkTopics(): Promise<void> {
    if (this.replacing !== undefined || this.consumer === undefined) return;
    try {
      const wanted = await this.options.wantedTopics();
      if (sameTopics(wanted, this.subscribed) || this.stopping.signal.aborted) return;
      this.options.events?.resubscribing?.(wanted);
      await this.replace();
    } catch (error) {
      if (!this.stopping.signal.aborted) this.options.events?.topicCheckFailed?.(error);
    }
  }
}

function sameTopics(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((topic) => set.has(topic));
}
