import type pg from "pg";
import type { EachBatchPayload, Kafka, Producer } from "kafkajs";
import type { MergePolicy } from "@tandem/config";
import type { EventCodec } from "@tandem/events";
import { recordGap, SupervisedConsumer } from "@tandem/kafka";
import { gapComponent, topicsAtSite } from "@tandem/replication";
import { DEFAULT_BACKOFF, retryWithBackoff, type Logger } from "@tandem/runtime";
import type { MaterializerMetrics } from "../metrics";
import { processBatch, type BatchOutcome } from "./process";

export interface ConsumerOptions {
  groupId: string;
  /** Where a new group starts; an existing group resumes from its committed offsets. */
  fromBeginning: boolean;
  /** How often the topic list is checked for a new `<origin>.` topic (a site added later). */
  topicRefreshMs: number;
  partitionsConsumedConcurrently: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
}

export interface EventConsumer {
  /** Resolves once the consumer has joined its group for the first time. */
  readonly joined: Promise<void>;
  health(): {
    joined: boolean;
    topics: string[];
    lastBatchAt: string | undefined;
    retrying: string | undefined;
  };
  stop(): Promise<void>;
}

/**
 * The site's event consumer: applies each batch of its local and remote event topics, a new `<origin>.` topic
 * (a site added later) included once the periodic topic check has seen it.
 */
export async function startEventConsumer(deps: {
  kafka: Kafka;
  site: string;
  codec: EventCodec;
  pool: pg.Pool;
  producer: Producer;
  policy: MergePolicy;
  metrics: MaterializerMetrics;
  logger: Logger;
  options: ConsumerOptions;
  onCallsInserted: () => void;
}): Promise<EventConsumer> {
  const { kafka, site, logger, metrics, options } = deps;
  const admin = kafka.admin();
  await admin.connect();
  let joined = false;
  let lastBatchAt: string | undefined;
  let retrying: string | undefined;
  let markJoined: () => void = () => {};
  const firstJoin = new Promise<void>((resolve) => (markJoined = resolve));
  const batchPolicy = { ...DEFAULT_BACKOFF, initialMs: options.retryInitialMs, maxMs: options.retryMaxMs };

  const eachBatch = async (payload: EachBatchPayload) => {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const started = performance.now();
    const records = batch.messages.map((message) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
      headers: message.headers,
    }));
    let outcome: BatchOutcome | undefined;
    try {
      outcome = await consumer.retryBatch(payload, () => processBatch({ ...deps, records }), {
        policy: batchPolicy,
        onRetry: (attempt, error, waitMs) => {
          retrying = (error as Error).message;
          metrics.batchRetries.inc();
          logger.warn(
            { err: error, topic: batch.topic, partition: batch.partition, attempt, waitMs },
            "batch failed, retrying",
          );
        },
      });
    } finally {
      retrying = undefined;
    }
    if (outcome === undefined) {
      logger.info(
        { topic: batch.topic, partition: batch.partition },
        "batch left to the partition's next reader",
      );
      return;
    }
    // The calls' rows are committed: their audio need not wait for the offset commit.
    if (outcome.callsInserted > 0) deps.onCallsInserted();
    const last = batch.messages.at(-1);
    if (last !== undefined) payload.resolveOffset(last.offset);
    await payload.commitOffsetsIfNecessary();
    for (const [topic, count] of outcome.appliedPerTopic) metrics.eventsApplied.inc({ topic }, count);
    if (outcome.dlq > 0) metrics.dlqRecords.inc({ kind: "record" }, outcome.dlq);
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    lastBatchAt = new Date().toISOString();
  };

  const subscribingFailed = (attempt: number, error: unknown) =>
    logger.warn({ err: error, attempt }, "no consumer: subscribing failed, retrying");
  const consumer = new SupervisedConsumer({
    kafka,
    consumer: {
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
    },
    run: {
      eachBatchAutoResolve: false,
      autoCommitThreshold: 1,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
      eachBatch,
    },
    fromBeginning: options.fromBeginning,
    backoff: batchPolicy,
    wantedTopics: async () => topicsAtSite(await admin.listTopics(), site),
    topicRefreshMs: options.topicRefreshMs,
    // Events that can no longer be applied are never skipped silently (`tandem status` reports them).
    onLostRange: async (range) => {
      const gap = {
        ...range,
        site,
        component: gapComponent.materializer(site),
        groupId: options.groupId,
        detectedAt: new Date().toISOString(),
      };
      logger.error({ gap }, "records lost: retention deleted them before the materializer read them");
      metrics.recordsLost.inc({ topic: range.topic, partition: range.partition }, range.count);
      await recordGap(deps.producer, gap);
    },
    events: {
      created: (next) =>
        next.on(next.events.GROUP_JOIN, () => {
          joined = true;
          markJoined();
        }),
      crashed: (error) => logger.warn({ err: error }, "consumer crashed; replacing it"),
      replacementFailed: subscribingFailed,
      topicCheckFailed: (error) => logger.warn({ err: error }, "topic list check failed; next check later"),
      consuming: (topics) => logger.info({ topics, groupId: options.groupId }, "consuming"),
    },
  });
  await retryWithBackoff(() => consumer.start(), { onRetry: subscribingFailed });

  return {
    joined: firstJoin,
    health: () => ({ joined, topics: consumer.topics, lastBatchAt, retrying }),
    async stop() {
      await consumer.stop();
      await admin.disconnect();
    },
  };
}
