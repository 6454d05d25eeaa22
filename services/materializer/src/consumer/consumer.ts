import type pg from "pg";
import type { Consumer, EachBatchPayload, Kafka, Producer } from "kafkajs";
import type { MergePolicy } from "@tandem/config";
import type { EventCodec } from "@tandem/events";
import { REPLACED_ON_CRASH, runConsumer } from "@tandem/kafka";
import { topicsAtSite } from "@tandem/replication";
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
 * The site's event consumer. kafkajs matches a subscription only against the topics existing when it
 * subscribes, so the topic list is checked periodically and the consumer re-subscribed when it grows.
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
  const stopping = new AbortController();
  let consumer: Consumer | undefined;
  let topics: string[] = [];
  let joined = false;
  let lastBatchAt: string | undefined;
  let retrying: string | undefined;
  let markJoined: () => void = () => {};
  const firstJoin = new Promise<void>((resolve) => (markJoined = resolve));

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
    // A batch whose consumer stopped or whose partition moved is left to the partition's next reader, which
    // starts from the committed offset; retrying it would hold up the consumer's stop (and restart) forever.
    const abandoned = () => !payload.isRunning() || payload.isStale();
    let outcome: BatchOutcome;
    try {
      outcome = await retryWithBackoff(() => processBatch({ ...deps, records }), {
        policy: { ...DEFAULT_BACKOFF, initialMs: options.retryInitialMs, maxMs: options.retryMaxMs },
        signal: stopping.signal,
        retryIf: () => !abandoned(),
        onRetry: (attempt, error, waitMs) => {
          retrying = (error as Error).message;
          metrics.batchRetries.inc();
          logger.warn(
            { err: error, topic: batch.topic, partition: batch.partition, attempt, waitMs },
            "batch failed, retrying",
          );
          payload.heartbeat().catch(() => {});
        },
      });
    } catch (error) {
      if (abandoned()) {
        logger.info(
          { topic: batch.topic, partition: batch.partition },
          "batch left to the partition's next reader",
        );
        return;
      }
      throw error;
    } finally {
      retrying = undefined;
    }
    const last = batch.messages.at(-1);
    if (last !== undefined) payload.resolveOffset(last.offset);
    await payload.commitOffsetsIfNecessary();
    for (const [topic, count] of outcome.appliedPerTopic) metrics.eventsApplied.inc({ topic }, count);
    if (outcome.dlq > 0) metrics.dlqRecords.inc({ kind: "record" }, outcome.dlq);
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    lastBatchAt = new Date().toISOString();
    if (outcome.callsInserted > 0) deps.onCallsInserted();
  };

  // Without a consumer nothing is applied: a refresh then retries until there is one. With one running, a
  // failed check waits for the next.
  const refreshUntilConsuming = () =>
    retryWithBackoff(refresh, {
      signal: stopping.signal,
      retryIf: () => consumer === undefined,
      onRetry: (attempt, error) =>
        logger.warn({ err: error, attempt }, "no consumer: subscribing failed, retrying"),
    });
  let refreshing = Promise.resolve();
  const refreshSoon = () => {
    refreshing = refreshing.then(refreshUntilConsuming).catch((error: unknown) => {
      if (!stopping.signal.aborted) logger.warn({ err: error }, "topic list check failed; next check later");
    });
  };

  const subscribe = async (wanted: string[]) => {
    const next = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      retry: REPLACED_ON_CRASH,
    });
    next.on(next.events.GROUP_JOIN, () => {
      joined = true;
      markJoined();
    });
    // A crashed consumer has already disconnected (kafkajs does not restart it): a new one takes its place.
    next.on(next.events.CRASH, ({ payload }) => {
      logger.warn({ err: payload.error }, "consumer crashed; replacing it");
      if (consumer !== next || stopping.signal.aborted) return;
      consumer = undefined;
      topics = [];
      refreshSoon();
    });
    try {
      await next.connect();
      await next.subscribe({ topics: wanted, fromBeginning: options.fromBeginning });
      await runConsumer(next, {
        eachBatchAutoResolve: false,
        autoCommitThreshold: 1,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
        eachBatch,
      });
    } catch (error) {
      await next.disconnect().catch(() => {});
      throw error;
    }
    consumer = next;
    topics = wanted;
    logger.info({ topics: wanted, groupId: options.groupId }, "consuming");
  };

  async function refresh() {
    const wanted = topicsAtSite(await admin.listTopics(), site);
    if ((consumer !== undefined && wanted.join() === topics.join()) || stopping.signal.aborted) return;
    // Stopping the old consumer finishes and commits its batch in flight before the new one joins.
    await consumer?.disconnect();
    consumer = undefined;
    topics = [];
    await subscribe(wanted);
  }

  await refreshUntilConsuming();
  const timer = setInterval(refreshSoon, options.topicRefreshMs);

  return {
    joined: firstJoin,
    health: () => ({ joined, topics, lastBatchAt, retrying }),
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await refreshing;
      await consumer?.disconnect();
      await admin.disconnect();
    },
  };
}
