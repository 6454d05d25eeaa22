import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Admin, EachBatchPayload, Kafka, Producer } from "kafkajs";
import {
  DEFAULT_TUNING,
  streamSchedule,
  type LinkConfig,
  type SiteConfig,
  type Stream,
  type Tuning,
} from "@tandem/config";
import { HEARTBEATS_TOPIC } from "@tandem/events";
import {
  createKafka,
  MAX_RETRY_MS,
  ensureSiteTopics,
  groupLagRecords,
  GroupSizeWatch,
  KAFKAJS_HEARTBEAT_INTERVAL_MS,
  recordGap,
  SupervisedConsumer,
  topicRetentionMs,
} from "@tandem/kafka";
import {
  DEFAULT_BACKOFF,
  retryWithBackoff,
  Throttle,
  type BackoffPolicy,
  type Logger,
} from "@tandem/runtime";
import {
  bridgeClientId,
  bridgeGroupId,
  bridgeTransactionGroupId,
  bridgeTransactionalId,
  capAt,
  gapComponent,
  linkName,
  STREAM_TOPICS,
  streamOf,
  type LostRange,
} from "@tandem/replication";
import type { RelayPlan } from "@tandem/replication";
import { shareOfCap } from "../core/cap-share";
import { sourceTopics } from "../core/routing";
import { retentionRisk } from "@tandem/replication";
import { AtLeastOnceDelivery } from "./at-least-once";
import { BatchForwarder } from "./batch-forwarder";
import { FencedError, type Delivery } from "./delivery";
import { ExactlyOnceDelivery } from "./exactly-once";
import { HeartbeatEmitter } from "./heartbeat-emitter";
import { LagTracker } from "./lag-tracker";
import { ReadAhead } from "./read-ahead";
import type { LinkMetrics, LinkState } from "./link-metrics";
import { StreamGates, type StreamScheduleStatus } from "./stream-gates";
import { SchemaTranslator } from "./schema-translator";
import { TargetTopicSync } from "./topic-sync";

/** How often remote topics take their source's settings again: MirrorMaker 2's default interval. */
const TOPIC_CONFIG_SYNC_MS = 10 * 60_000;

/**
 * Retries of a link's consumers, at most a second apart, for longer than their group session: a consumer
 * that gives up sooner rejoins as a new member, and that join waits for the old member's session to expire
 * (a 15 s cut kept the link down 15 s after the heal, bench/wan.ts). Given up later, the session has expired.
 */
function consumerRetries(sessionTimeoutMs: number): number {
  return Math.ceil(sessionTimeoutMs / MAX_RETRY_MS) + 10;
}

export interface LinkWorkerOptions {
  link: LinkConfig;
  source: SiteConfig;
  target: SiteConfig;
  logger: Logger;
  metrics: LinkMetrics;
  /** The routes of the whole topology, so that a mesh delivers each event once per site. */
  relayPlan: RelayPlan;
  /**
   * The clock schedules are read with; injectable so that tests can move time. Heartbeats, ages and
   * latencies always use the wall clock, so that other sites can compare them with theirs.
   */
  now?: () => Date;
  /** Names this instance in its logs (a fenced instance says which it is); defaults to the host name. */
  instanceId?: string;
  /** The topology's `tuning.bridge`; the three options below override it (tests shorten them). */
  tuning?: Tuning["bridge"];
  heartbeatIntervalMs?: number;
  topicRefreshMs?: number;
  backoff?: BackoffPolicy;
  /** Between two copies of the source topics' settings to the remote topics. */
  topicConfigSyncMs?: number;
}

/** One of the link's consumers in this process, and the batches it reads ahead. */
interface FetchStream {
  consumer: SupervisedConsumer;
  readAhead: ReadAhead;
}

export interface LinkStatus {
  link: string;
  state: LinkState;
  delivery: LinkConfig["delivery"];
  schedule: LinkConfig["schedule"]["kind"];
  catchUpRequested: boolean;
  /** Each stream's schedule, whether it is open, and when that changes. */
  streams: StreamScheduleStatus[];
  lagRecords: number;
  /** Age of the oldest record fetched but not yet forwarded; 0 when caught up. */
  lagSeconds: number;
  lastForwardedAt: string | undefined;
  lastError: string | undefined;
  /** Records retention deleted at the source before this process forwarded them. */
  recordsLost: number;
}

/**
 * One link `from -> to`: consumes the source site's topics in a consumer group, routes each record by
 * its headers, and writes it to the target cluster; source offsets are committed only once the target
 * acknowledged (or, exactly-once, recorded in the same target transaction as the records).
 */
export class LinkWorker {
  readonly id: string;
  private readonly link: LinkConfig;
  private readonly logger: Logger;
  private readonly metrics: LinkMetrics;
  private readonly backoff: BackoffPolicy;
  private readonly heartbeatIntervalMs: number;
  private readonly groupId: string;
  private readonly sourceRetentionMs: number | undefined;
  private readonly targetRetentionMs: number | undefined;
  private readonly sourceAdmin: Admin;
  private readonly targetAdmin: Admin;
  private readonly sourceProducer: Producer;
  private readonly topics: TargetTopicSync;
  private readonly delivery: Delivery;
  private readonly forwarder: BatchForwarder;
  private readonly heartbeats: HeartbeatEmitter;
  private readonly lag: LagTracker;
  private readonly gates: StreamGates;
  /** Each a member of the link's group with a fetch of its own in flight (`bridge.consumersPerLink`). */
  private readonly streams: FetchStream[];
  private readonly startedStreams = new Set<FetchStream>();
  private readonly abort = new AbortController();
  private readonly topicConfigSyncMs: number;
  /** The link's instances share its cap: each takes its part, by the members of its group. */
  private readonly instances: GroupSizeWatch | undefined;
  private readonly throttle: Throttle;
  private configSyncTimer: NodeJS.Timeout | undefined;
  private currentState: LinkState = "starting";
  private lastForwardedAt: Date | undefined;
  private lastError: string | undefined;
  /** What failed since the link last worked (records forwarded, a consumer joined). */
  private readonly failing = new Set<string>();
  private recordsLost = 0;

  constructor(options: LinkWorkerOptions) {
    const { link } = options;
    this.link = link;
    this.id = linkName(link);
    this.groupId = bridgeGroupId(link);
    this.sourceRetentionMs = options.source.retentionMs;
    this.targetRetentionMs = options.target.retentionMs;
    this.logger = options.logger.child({ link: this.id, instance: options.instanceId ?? os.hostname() });
    this.metrics = options.metrics;
    const tuning = options.tuning ?? DEFAULT_TUNING.bridge;
    this.backoff = options.backoff ?? { ...DEFAULT_BACKOFF, ...tuning.retry };
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? tuning.heartbeatIntervalMs;
    this.topicConfigSyncMs = options.topicConfigSyncMs ?? TOPIC_CONFIG_SYNC_MS;
    const sourceKafka = createKafka(options.source.kafka, bridgeClientId(link), this.logger);
    const targetKafka = createKafka(options.target.kafka, bridgeClientId(link), this.logger);
    this.sourceAdmin = sourceKafka.admin();
    this.targetAdmin = targetKafka.admin();
    this.sourceProducer = sourceKafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.topics = new TargetTopicSync(this.sourceAdmin, this.targetAdmin);
    this.delivery =
      link.delivery === "exactly-once"
        ? new ExactlyOnceDelivery(
            targetKafka,
            this.targetAdmin,
            {
              transactionalId: ({ topic, partition }) => bridgeTransactionalId(link, topic, partition),
              eosGroupId: bridgeTransactionGroupId(link),
            },
            this.logger,
            tuning.partitionsConcurrently,
          )
        : new AtLeastOnceDelivery(targetKafka, tuning.partitionsConcurrently);
    this.forwarder = new BatchForwarder({
      link,
      linkId: this.id,
      relayPlan: options.relayPlan,
      logger: this.logger,
      metrics: this.metrics,
      translator: new SchemaTranslator(options.source.registry, options.target.registry),
      topics: this.topics,
      delivery: this.delivery,
      sourceProducer: this.sourceProducer,
      maxRequestBytes: tuning.maxRequestBytes,
    });
    // The consumers ride out a cut in place (consumerRetries): the heartbeat, sent every few seconds, is
    // what sees the source unreachable first.
    this.heartbeats = new HeartbeatEmitter(this.sourceProducer, this.id, this.logger, {
      notSent: (error) => this.failed("heartbeat", error),
      // A heartbeat taken clears its own failure only: a consumer may be down for another cause.
      sent: () => {
        if (this.failing.delete("heartbeat") && this.failing.size === 0) this.working();
      },
    });
    this.lag = new LagTracker(this.metrics, this.id);
    const now = options.now ?? (() => new Date());
    this.gates = new StreamGates({
      link,
      checkIntervalMs: tuning.scheduleCheckMs,
      now,
      logger: this.logger,
      caughtUp: (stream) => this.caughtUp(stream),
      changed: () => this.gateChanged(),
    });
    this.instances =
      link.bandwidth === undefined ? undefined : new GroupSizeWatch(this.sourceAdmin, this.groupId);
    // An exactly-once link's writers follow its one member's assignment (see ExactlyOnceDelivery.assigned).
    const consumers = link.delivery === "exactly-once" ? 1 : tuning.consumersPerLink;
    this.throttle = new Throttle(() => {
      const cap = capAt(link.bandwidth, now());
      return cap === undefined ? undefined : shareOfCap(cap, consumers, this.instances?.size ?? consumers);
    });
    const consumerTuning = { ...tuning, topicRefreshMs: options.topicRefreshMs ?? tuning.topicRefreshMs };
    // The consumers' client of their own, as patient as they are (see consumerRetries).
    const consumerKafka = createKafka(
      options.source.kafka,
      bridgeClientId(link),
      this.logger,
      consumerRetries(tuning.sessionTimeoutMs),
    );
    this.streams = Array.from({ length: consumers }, () => this.fetchStream(consumerKafka, consumerTuning));
    this.setState("starting");
  }

  /** Connects (retrying while a cluster is down) and starts forwarding; resolves once consuming. */
  async start(): Promise<void> {
    await this.connect();
    this.heartbeats.start(this.heartbeatIntervalMs);
    this.lag.start();
    this.configSyncTimer = setInterval(() => void this.syncTopicConfigs(), this.topicConfigSyncMs);
    this.instances?.start();
    await this.gates.start();
  }

  /** Finishes the batch in flight (its offsets are committed), then disconnects. */
  async stop(): Promise<void> {
    this.abort.abort();
    clearInterval(this.configSyncTimer);
    this.instances?.stop();
    this.gates.stop();
    this.heartbeats.stop();
    this.lag.stop();
    // Batches delivered ahead of kafkajs commit their offsets before the consumer leaves its group.
    await Promise.all(
      this.streams.map(async ({ consumer, readAhead }) => {
        await readAhead.drain();
        await consumer.stop();
      }),
    );
    await Promise.all(
      [this.sourceProducer, this.delivery, this.sourceAdmin, this.targetAdmin].map((c) =>
        c.disconnect().catch(() => {}),
      ),
    );
    this.setState("stopped");
  }

  /** An operator's catch-up: each stream runs whatever its schedule until it has caught up. */
  requestCatchUp(): void {
    this.gates.requestCatchUp();
  }

  status(): LinkStatus {
    return {
      link: this.id,
      state: this.currentState,
      delivery: this.link.delivery,
      schedule: this.link.schedule.kind,
      catchUpRequested: this.gates.catchUpRequested,
      streams: this.gates.status(),
      lagRecords: this.lag.lagRecords(),
      lagSeconds: this.lag.lagSeconds(),
      lastForwardedAt: this.lastForwardedAt?.toISOString(),
      lastError: this.lastError,
      recordsLost: this.recordsLost,
    };
  }

  private setState(state: LinkState): void {
    if (state !== this.currentState) this.logger.info({ from: this.currentState, to: state }, "link state");
    this.currentState = state;
    this.metrics.setState(this.id, state);
  }

  /** Out of `starting` or `down` once the link works again. */
  private working(): void {
    this.failing.clear();
    if (this.currentState === "starting" || this.currentState === "down") {
      this.setState(this.gates.allClosed ? "paused" : "running");
    }
  }

  private failed(kind: string, error: unknown): void {
    this.failing.add(kind);
    this.lastError = error instanceof Error ? error.message : String(error);
    this.metrics.errors.inc({ link: this.id, kind });
    if (this.currentState !== "down")
      this.logger.warn({ kind, error: this.lastError }, "link down, retrying");
    this.setState("down");
  }

  private async connect(): Promise<void> {
    await retryWithBackoff(
      async () => {
        await this.sourceAdmin.connect();
        await this.targetAdmin.connect();
        await ensureSiteTopics(this.sourceAdmin, this.sourceRetentionMs);
        await ensureSiteTopics(this.targetAdmin, this.targetRetentionMs);
        await this.topics.ensureStreamTopics(this.link);
        // Remote topics that existed before this start may lag behind a change made at the source meanwhile.
        await this.syncTopicConfigs();
        await this.warnOfRetentionRisk();
        await this.sourceProducer.connect();
        await this.delivery.connect();
        await this.startStreams();
      },
      {
        policy: this.backoff,
        signal: this.abort.signal,
        onRetry: (_attempt, error) => this.failed("connect", error),
      },
    );
  }

  /**
   * Starts the consumers together, so that they join in as few rebalances as can be: one joining while the
   * others already forward moves partitions mid-batch, and their records are read again. A consumer that
   * joined stays; a retry starts only those that did not.
   */
  private async startStreams(): Promise<void> {
    const starting = this.streams.filter((stream) => !this.startedStreams.has(stream));
    const results = await Promise.allSettled(
      starting.map(async (stream) => {
        await stream.consumer.start();
        this.startedStreams.add(stream);
      }),
    );
    const failed = results.find((result) => result.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  private fetchStream(
    kafka: Kafka,
    tuning: Pick<
      Tuning["bridge"],
      "fetchMaxWaitMs" | "fetchBytesPerPartition" | "sessionTimeoutMs" | "topicRefreshMs"
    >,
  ): FetchStream {
    const readAhead = new ReadAhead();
    const consumer: SupervisedConsumer = new SupervisedConsumer({
      kafka,
      consumer: {
        groupId: this.groupId,
        readUncommitted: false,
        maxWaitTimeInMs: tuning.fetchMaxWaitMs,
        maxBytesPerPartition: tuning.fetchBytesPerPartition,
        sessionTimeout: tuning.sessionTimeoutMs,
      },
      retries: consumerRetries(tuning.sessionTimeoutMs),
      run: {
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.delivery.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.handleBatch(payload, { consumer, readAhead }),
      },
      fromBeginning: true,
      wantedTopics: async () => [
        ...sourceTopics(this.link, await this.sourceAdmin.listTopics()),
        HEARTBEATS_TOPIC,
      ],
      topicRefreshMs: tuning.topicRefreshMs,
      backoff: this.backoff,
      onLostRange: (range) => this.recordLostRange(range),
      events: {
        // A rebalance may move partitions elsewhere: what is known of them is learnt again.
        created: (consumer) =>
          consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
            // Which member took what: a rejoin under a new member id after a cut shows here.
            this.logger.info(
              { memberId: payload.memberId, assignment: payload.memberAssignment },
              "joined the link's consumer group",
            );
            this.delivery.assigned(
              Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) =>
                partitions.map((partition) => ({ topic, partition })),
              ),
            );
            this.lag.clear();
            readAhead.restart();
          }),
        crashed: (error) => this.failed("consumer", error),
        replacementFailed: (_attempt, error) => this.failed("consumer", error),
        // Remote topics that appeared at the source (a new site upstream).
        resubscribing: (topics) => this.logger.info({ topics }, "new source topics: resubscribing"),
        topicCheckFailed: (error) =>
          this.logger.debug({ error: (error as Error).message }, "topic refresh failed"),
        consuming: () => this.working(),
        commitFailed: (error) =>
          this.logger.debug({ error: (error as Error).message }, "source offset commit failed"),
      },
    });
    return { consumer, readAhead };
  }

  /** A source that deletes records sooner than the schedule may read them is a loss waiting to happen. */
  private async warnOfRetentionRisk(): Promise<void> {
    for (const stream of this.link.streams) {
      const topic = STREAM_TOPICS[stream];
      const schedule = streamSchedule(this.link, stream);
      const risk = retentionRisk(schedule, await topicRetentionMs(this.sourceAdmin, topic));
      if (risk !== undefined) this.logger.warn({ site: this.link.from, topic }, `retention risk: ${risk}`);
    }
  }

  private async syncTopicConfigs(): Promise<void> {
    try {
      const altered = await this.topics.syncConfigs();
      if (altered.length > 0)
        this.logger.info(
          { site: this.link.to, topics: altered },
          "remote topics took their source's settings",
        );
    } catch (error) {
      this.logger.warn({ err: error }, "topic settings not synced; next attempt at the next interval");
    }
  }

  /** Records that can no longer be forwarded are never skipped silently (`tandem status` reports them). */
  private async recordLostRange(range: LostRange): Promise<void> {
    const gap = {
      ...range,
      site: this.link.from,
      component: gapComponent.bridge(this.link),
      groupId: this.groupId,
      detectedAt: new Date().toISOString(),
    };
    this.logger.error(
      { gap },
      "records lost: retention deleted them at the source before the link read them",
    );
    this.metrics.recordsLost.inc(
      { link: this.id, topic: range.topic, partition: range.partition },
      range.count,
    );
    this.recordsLost += range.count;
    await recordGap(this.sourceProducer, gap);
  }

  private gateChanged(): void {
    for (const { consumer } of this.streams) consumer.pauseWhere((topic) => this.gates.isTopicClosed(topic));
    if (this.currentState !== "down") this.setState(this.gates.allClosed ? "paused" : "running");
  }

  /** True when the group's committed offsets reach the end of the stream's topics at the source. */
  private async caughtUp(stream: Stream): Promise<boolean> {
    // Without a consumer running, nothing says which topics the catch-up covers.
    const subscribed = this.streams[0]!.consumer.topics;
    if (subscribed.length === 0) return false;
    const topics = subscribed.filter((topic) => streamOf(topic) === stream);
    return groupLagRecords(this.sourceAdmin, this.groupId, topics).then(
      (lag) => lag === 0,
      () => false,
    );
  }

  /**
   * The partition moved to another instance while this one was silent (paused past its session): the
   * batch is dropped unwritten, and the group is asked whether this instance still belongs to it before
   * it writes anything more, so that it does not fence the new owner in turn.
   */
  private async fenced(payload: EachBatchPayload, error: FencedError): Promise<void> {
    this.metrics.errors.inc({ link: this.id, kind: "fenced" });
    this.logger.warn(
      { ...error.at, error: error.cause instanceof Error ? error.cause.message : String(error.cause) },
      "fenced: another instance took over this partition; its writes here are refused, rejoining the group",
    );
    // kafkajs heartbeats at most once per interval; after it, the answer is the group's current word.
    await sleep(KAFKAJS_HEARTBEAT_INTERVAL_MS, undefined, { signal: this.abort.signal }).catch(() => {});
    // Throws when the group moved on without this member: kafkajs then rejoins, with its new assignment.
    await payload.heartbeat();
  }

  private async handleBatch(payload: EachBatchPayload, stream: FetchStream): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    this.lag.fetched(topic, partition, Number(batch.offsetLag()), batch.messages[0]?.timestamp);
    if (this.gates.isTopicClosed(topic) || this.abort.signal.aborted) return;
    // Paced before it is sent, so that a backlog's first fetch waits its turn too; keys and values are the
    // bytes the link's cap counts, as its bytes-forwarded metric does.
    const batchBytes = batch.messages.reduce(
      (sum, m) => sum + (m.key?.length ?? 0) + (m.value?.length ?? 0),
      0,
    );
    // A wait cut short (stopping, or the partition moved while waiting) leaves the batch to the next reader.
    const paced = await this.throttle
      .pass(batchBytes, { signal: this.abort.signal, waiting: () => payload.heartbeat() })
      .then(
        () => true,
        () => false,
      );
    if (!paced) return;

    if (!this.delivery.readsAhead) {
      await this.deliverBatch(payload, stream.consumer);
      return;
    }
    const previousDelivered = stream.readAhead.queue(`${topic}\u0000${partition}`, () =>
      this.deliverBatch(payload, stream.consumer),
    );
    // kafkajs fetches from the offset resolved last: the next batch comes while this one is delivered.
    payload.resolveOffset(batch.lastOffset());
    await previousDelivered;
    if (this.abort.signal.aborted) await stream.readAhead.drain();
  }

  /**
   * Forwards a batch until the target holds it, then commits its offset in the background; false when it
   * is abandoned uncommitted (its partition moved, or the link stops).
   */
  private async deliverBatch(payload: EachBatchPayload, consumer: SupervisedConsumer): Promise<boolean> {
    const { batch } = payload;
    const { topic, partition } = batch;
    const delivered = await consumer
      .retryBatch(payload, () => this.forwarder.forward(batch), {
        signal: this.abort.signal,
        onRetry: (_attempt, error) => this.failed("deliver", error),
        final: (error) => error instanceof FencedError,
      })
      .catch(async (error: unknown) => {
        if (!(error instanceof FencedError)) throw error;
        await this.fenced(payload, error);
        return undefined;
      });
    if (delivered === undefined) return false;
    this.working();

    if (!this.delivery.readsAhead) payload.resolveOffset(batch.lastOffset());
    // Exactly-once keeps its position at the target; at-least-once re-forwards, harmlessly, what a crash
    // left uncommitted. Not awaited: across a long link a commit costs a round trip per batch.
    consumer.commitSoon([{ topic, partition, offset: delivered.next }]);
    const now = new Date();
    this.metrics.recordsForwarded.inc({ link: this.id }, delivered.forwarded);
    this.metrics.bytesForwarded.inc({ link: this.id }, delivered.bytes);
    this.metrics.deadLettered.inc({ link: this.id }, delivered.deadLettered);
    for (const message of batch.messages) {
      this.metrics.recordAge.observe(
        { link: this.id },
        Math.max(0, now.getTime() - Number(message.timestamp)) / 1000,
      );
    }
    this.lag.forwarded(topic, partition, Number(batch.offsetLag()), batch.messages.at(-1)?.timestamp);
    if (delivered.forwarded > 0) this.lastForwardedAt = now;
    return true;
  }
}
