import { setTimeout as sleep } from "node:timers/promises";
import type {
  Admin,
  Batch,
  Consumer,
  ConsumerConfig,
  ConsumerRunConfig,
  EachBatchPayload,
  Kafka,
  TopicPartitionOffsetAndMetadata,
} from "kafkajs";
import type { LostRange } from "@tandem/replication";
import { backoffDelay, retryWithBackoff, type BackoffPolicy } from "@tandem/runtime";
import { BackgroundCommits } from "./background-commits";
import { REPLACED_ON_CRASH, runConsumer } from "./consumers";
import { HeartbeatAhead, KAFKAJS_HEARTBEAT_INTERVAL_MS } from "./heartbeat-ahead";

/** Longest wait between heartbeats to the group while a batch is retried. */
const HEARTBEAT_SLICE_MS = 2000;
/** Before a failed background commit is tried again, when no newer offset comes first. */
const COMMIT_RETRY_MS = 1000;

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
  /** Between attempts to replace a consumer, and between attempts of a batch (SUPERVISED_BACKOFF if not given). */
  backoff?: BackoffPolicy;
  /**
   * Told, before the batch after it is handled, of records that retention deleted before the group read
   * them: the group's position was below the partition's log start. Without it, kafkajs would skip them
   * silently.
   */
  onLostRange?: (range: LostRange) => Promise<void>;
  events?: {
    /** Each new consumer before it connects: a replacement is a new consumer and needs its listeners again. */
    created?: (consumer: Consumer) => void;
    crashed?: (error: Error) => void;
    /** A replacement failed to start; another attempt follows. */
    replacementFailed?: (attempt: number, error: unknown) => void;
    resubscribing?: (topics: string[]) => void;
    topicCheckFailed?: (error: unknown) => void;
    consuming?: (topics: string[]) => void;
    /** A background commit failed; its offsets go with the next one. */
    commitFailed?: (error: unknown) => void;
  };
}

/**
 * Kafka's own clients reconnect within a second of a broker's return (reconnect.backoff.max.ms); waits
 * doubling up to a minute had a consumer replaced after a broker restart come back up to a minute late.
 */
const SUPERVISED_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 5_000, multiplier: 2, jitter: 0.5 };

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
  private paused: (topic: string) => boolean = () => false;
  private replacing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Per partition, the offset the next batch should start at; learnt again at each group join. */
  private readonly expectedNext = new Map<string, bigint>();
  /**
   * Per partition, the group's position as last seen: its commits read before each consumer starts, then
   * the end of each batch. kafkajs commits its reset position as soon as a fetch falls below the log
   * start, so after a join the group's commit no longer shows where it had got to.
   */
  private readonly positions = new Map<string, bigint>();
  /** Per partition, the log start up to which a loss was reported. */
  private readonly lostUpTo = new Map<string, bigint>();
  private admin: Admin | undefined;
  private readonly commits: BackgroundCommits;
  private heartbeats: HeartbeatAhead | undefined;

  constructor(private readonly options: SupervisedConsumerOptions) {
    this.commits = new BackgroundCommits((offsets) => this.commitNow(offsets), {
      retryAfterMs: COMMIT_RETRY_MS,
      failed: (error) => this.options.events?.commitFailed?.(error),
    });
  }

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
    this.heartbeats?.stop();
    // While still a member of the group: after it leaves, its commits are refused.
    await this.commits.flush();
    await this.replacing;
    await this.consumer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
    this.consumer = undefined;
    this.subscribed = [];
  }

  /**
   * Pauses the subscribed topics `paused` picks and resumes the others, also in a consumer that replaces
   * this one (a link pauses a stream outside its schedule and keeps the others running).
   */
  pauseWhere(paused: (topic: string) => boolean): void {
    this.paused = paused;
    if (this.consumer !== undefined) this.applyPause(this.consumer, this.subscribed);
  }

  private applyPause(consumer: Consumer, topics: readonly string[]): void {
    const pause = topics.filter((topic) => this.paused(topic));
    const resume = topics.filter((topic) => !this.paused(topic));
    if (pause.length > 0) consumer.pause(pause.map((topic) => ({ topic })));
    if (resume.length > 0) consumer.resume(resume.map((topic) => ({ topic })));
  }

  /**
   * Commits the offsets in the background (see BackgroundCommits); a stop, a replacement and the batch in
   * flight when a stop begins wait for what is queued.
   */
  commitSoon(offsets: TopicPartitionOffsetAndMetadata[]): void {
    this.commits.note(offsets);
  }

  private async commitNow(offsets: TopicPartitionOffsetAndMetadata[]): Promise<void> {
    if (this.consumer === undefined) throw new Error("no consumer is running");
    await this.consumer.commitOffsets(offsets);
  }

  /**
   * Runs a batch's work until it succeeds, backing off between attempts and heartbeating the group while it
   * waits. Undefined when the batch is abandoned uncommitted, because its consumer stopped or its partition
   * moved: the partition's next reader starts from the committed offset, whereas retrying would hold up the
   * consumer's stop (and its replacement) forever. An error that `final` accepts is thrown at once.
   */
  async retryBatch<T>(
    payload: EachBatchPayload,
    work: () => Promise<T>,
    options: {
      policy?: BackoffPolicy;
      onRetry?: (attempt: number, error: unknown, waitMs: number) => void;
      final?: (error: unknown) => boolean;
      /** Abandons the batch too: its owner stops before the consumer does. */
      signal?: AbortSignal;
    } = {},
  ): Promise<T | undefined> {
    const policy = options.policy ?? this.options.backoff ?? SUPERVISED_BACKOFF;
    const abandoned = () =>
      this.stopping.signal.aborted ||
      options.signal?.aborted === true ||
      !payload.isRunning() ||
      payload.isStale();
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (options.final?.(error)) throw error;
        const waitMs = backoffDelay(Math.min(attempt - 1, 30), Math.random, policy);
        options.onRetry?.(attempt, error, waitMs);
        for (let left = waitMs; left > 0; left -= HEARTBEAT_SLICE_MS) {
          if (abandoned()) return undefined;
          const signal =
            options.signal === undefined
              ? this.stopping.signal
              : AbortSignal.any([this.stopping.signal, options.signal]);
          await sleep(Math.min(left, HEARTBEAT_SLICE_MS), undefined, { signal }).catch(() => {});
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
    const heartbeats = new HeartbeatAhead(
      this.options.consumer.heartbeatInterval ?? KAFKAJS_HEARTBEAT_INTERVAL_MS,
    );
    consumer.on(consumer.events.HEARTBEAT, () => heartbeats.answered());
    // A crashed consumer has already disconnected (kafkajs does not restart it): a new one takes its place.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      heartbeats.stop();
      events?.crashed?.(payload.error);
      if (this.consumer === consumer && !this.stopping.signal.aborted) void this.replace();
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      // Partitions may have moved: where each one's next batch should start is learnt again.
      this.expectedNext.clear();
      const owned = payload.memberAssignment;
      this.commits.retain((topic, partition) => owned[topic]?.includes(partition) ?? false);
      const { onLostRange } = this.options;
      if (onLostRange !== undefined)
        void this.checkAssignment(consumer, payload.memberAssignment, onLostRange);
    });
    events?.created?.(consumer);
    try {
      if (this.options.onLostRange !== undefined) await this.notePositions(topics);
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: this.options.fromBeginning });
      await runConsumer(consumer, this.runConfig(heartbeats));
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      throw error;
    }
    if (this.stopping.signal.aborted) {
      await consumer.disconnect().catch(() => {});
      return;
    }
    this.heartbeats?.stop();
    this.heartbeats = heartbeats;
    this.consumer = consumer;
    this.subscribed = topics;
    this.applyPause(consumer, topics);
    events?.consuming?.(topics);
  }

  private runConfig(heartbeats: HeartbeatAhead): ConsumerRunConfig {
    const { run, onLostRange } = this.options;
    const { eachBatch } = run;
    if (eachBatch === undefined) return run;
    return {
      ...run,
      eachBatch: async (payload) => {
        heartbeats.use(payload.heartbeat);
        if (onLostRange !== undefined) await this.checkContinuity(payload.batch, onLostRange);
        await eachBatch(payload);
        // A stop waits for this batch, then leaves the group: its offset is committed before that.
        if (this.stopping.signal.aborted) await this.commits.flush();
      },
    };
  }

  /**
   * Compares where a batch starts with where the group had got to: its committed offset after a join, the
   * previous batch's end after that. Records may be missing for a transaction's marker (one offset), an
   * aborted transaction, or retention: the partition's log start tells them apart. Mid-stream, a jump of
   * one offset is taken for a marker without asking. A failed look-up fails the batch, so that the group's
   * position stays where the gap shows.
   */
  private async checkContinuity(
    batch: Batch,
    onLostRange: (range: LostRange) => Promise<void>,
  ): Promise<void> {
    const first = batch.firstOffset();
    if (first === null) return;
    const { topic, partition } = batch;
    const key = partitionKey(topic, partition);
    const known = this.expectedNext.get(key);
    const committed = known === undefined ? await this.committedOffset(topic, partition) : -1n;
    const expected = known ?? (committed >= 0n ? committed : (this.positions.get(key) ?? -1n));
    const skipped = BigInt(first) - expected;
    if (expected >= 0n && (known === undefined ? skipped > 0n : skipped > 1n)) {
      await this.reportLoss(topic, partition, expected, await this.logStart(topic, partition), onLostRange);
    }
    const next = BigInt(batch.lastOffset()) + 1n;
    this.expectedNext.set(key, next);
    this.positions.set(key, next);
  }

  private async notePositions(topics: string[]): Promise<void> {
    const admin = await this.connectedAdmin();
    const committed = await admin.fetchOffsets({ groupId: this.options.consumer.groupId, topics });
    for (const { topic, partitions } of committed) {
      for (const { partition, offset } of partitions) {
        if (BigInt(offset) >= 0n) this.positions.set(partitionKey(topic, partition), BigInt(offset));
      }
    }
  }

  /**
   * At each join, every partition assigned is compared with its log start: a position below it is a loss,
   * reported now rather than at the partition's next batch, which may never come. A partition the group
   * never committed (it held no record yet, or the link is paused) would look like a fresh start after a
   * restart, hiding records deleted before the group read them, so where it starts, the log start, is
   * committed. Best effort: the next join and the batches check again.
   */
  private async checkAssignment(
    consumer: Consumer,
    assignment: Record<string, number[]>,
    onLostRange: (range: LostRange) => Promise<void>,
  ): Promise<void> {
    try {
      const topics = Object.keys(assignment);
      if (topics.length === 0) return;
      const admin = await this.connectedAdmin();
      const committed = await admin.fetchOffsets({ groupId: this.options.consumer.groupId, topics });
      const starts: TopicPartitionOffsetAndMetadata[] = [];
      for (const topic of topics) {
        const logStarts = await admin.fetchTopicOffsets(topic);
        const commits = committed.find((c) => c.topic === topic)?.partitions ?? [];
        for (const partition of assignment[topic] ?? []) {
          const low = logStarts.find((o) => o.partition === partition)?.low;
          if (low === undefined) continue;
          const offset = BigInt(commits.find((c) => c.partition === partition)?.offset ?? "-1");
          const position =
            this.positions.get(partitionKey(topic, partition)) ?? (offset >= 0n ? offset : undefined);
          if (position !== undefined)
            await this.reportLoss(topic, partition, position, BigInt(low), onLostRange);
          else starts.push({ topic, partition, offset: low });
        }
      }
      // A batch handled meanwhile committed a later offset, which the log start must not overwrite.
      const unread = starts.filter(
        ({ topic, partition }) => !this.positions.has(partitionKey(topic, partition)),
      );
      if (unread.length > 0) await consumer.commitOffsets(unread);
    } catch {
      // Checked again at the next join, and by the partitions' batches.
    }
  }

  /** Reports the records from `from` to below the log start, once, whoever finds them first. */
  private async reportLoss(
    topic: string,
    partition: number,
    from: bigint,
    logStart: bigint,
    onLostRange: (range: LostRange) => Promise<void>,
  ): Promise<void> {
    const key = partitionKey(topic, partition);
    const reported = this.lostUpTo.get(key);
    const first = reported !== undefined && reported > from ? reported : from;
    if (logStart <= first) return;
    this.lostUpTo.set(key, logStart);
    try {
      await onLostRange({
        topic,
        partition,
        firstOffset: String(first),
        lastOffset: String(logStart - 1n),
        count: Number(logStart - first),
      });
    } catch (error) {
      if (this.lostUpTo.get(key) === logStart) {
        if (reported === undefined) this.lostUpTo.delete(key);
        else this.lostUpTo.set(key, reported);
      }
      throw error;
    }
  }

  private async connectedAdmin(): Promise<Admin> {
    this.admin ??= this.options.kafka.admin();
    await this.admin.connect();
    return this.admin;
  }

  /** The group's committed offset of a partition; -1 when it never committed one. */
  private async committedOffset(topic: string, partition: number): Promise<bigint> {
    const admin = await this.connectedAdmin();
    const groupId = this.options.consumer.groupId;
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const offset = committed?.partitions.find((p) => p.partition === partition)?.offset ?? "-1";
    return BigInt(offset);
  }

  private async logStart(topic: string, partition: number): Promise<bigint> {
    const admin = await this.connectedAdmin();
    const offsets = await admin.fetchTopicOffsets(topic);
    return BigInt(offsets.find((o) => o.partition === partition)?.low ?? "0");
  }

  private replace(): Promise<void> {
    this.replacing ??= (async () => {
      try {
        // The old consumer commits what it forwarded, if it still can, and finishes its batch in flight
        // before the new one joins; the new one commits what that batch leaves queued.
        await this.commits.flush();
        await this.consumer?.disconnect().catch(() => {});
        this.consumer = undefined;
        this.subscribed = [];
        await retryWithBackoff(() => this.startConsumer(), {
          policy: this.options.backoff ?? SUPERVISED_BACKOFF,
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

const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

function sameTopics(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((topic) => set.has(topic));
}
