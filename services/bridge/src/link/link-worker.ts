import os from "node:os";
import type { Admin, EachBatchPayload, Kafka, Message, Producer } from "kafkajs";
import type { LinkConfig, SiteConfig } from "@tandem/config";
import {
  DLQ_TOPIC,
  HEADER_PATH,
  HEARTBEATS_TOPIC,
  oversizedProblem,
  parseHeaders,
  parseWireFormat,
  peekIdentities,
} from "@tandem/events";
import {
  createKafka,
  deadLetterMessage,
  ensureSiteTopics,
  ensureTopics,
  partitionCount,
  SupervisedConsumer,
} from "@tandem/kafka";
import { DEFAULT_BACKOFF, retryWithBackoff, type BackoffPolicy, type Logger } from "@tandem/runtime";
import { chunkBySize } from "../core/batching";
import { isRestrictive } from "../core/filters";
import type { RelayPlan } from "../core/relay-plan";
import { STREAM_TOPICS, remoteTopic } from "../core/replication-policy";
import { route, sourceTopics } from "../core/routing";
import { scheduleState, type ManualRequest } from "../core/schedule";
import { heartbeatMessage, parseHeartbeat, HEARTBEAT_FORWARDED_AT_HEADER } from "./heartbeat";
import type { LinkMetrics, LinkState } from "./link-metrics";
import { SchemaTranslator, UntranslatableRecord } from "./schema-translator";

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
  /** Distinguishes instances of the same link (transactional id); defaults to the host name. */
  instanceId?: string;
  heartbeatIntervalMs?: number;
  topicRefreshMs?: number;
  backoff?: BackoffPolicy;
}

export interface LinkStatus {
  link: string;
  state: LinkState;
  delivery: LinkConfig["delivery"];
  schedule: LinkConfig["schedule"]["kind"];
  catchUpRequested: boolean;
  lagRecords: number;
  /** Age of the oldest record fetched but not yet forwarded; 0 when caught up. */
  lagSeconds: number;
  lastForwardedAt: string | undefined;
  lastError: string | undefined;
}

const SCHEDULE_CHECK_MS = 1000;
const LAG_SAMPLE_MS = 1000;

const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

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
  private readonly relayPlan: RelayPlan;
  private readonly now: () => Date;
  private readonly backoff: BackoffPolicy;
  private readonly sourceKafka: Kafka;
  private readonly targetKafka: Kafka;
  private readonly translator: SchemaTranslator;
  private readonly groupId: string;
  /** Group at the target holding the source offsets written in each transaction (exactly-once). */
  private readonly eosGroupId: string;
  private readonly transactionalId: string;
  private readonly abort = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly heartbeatIntervalMs: number;
  private readonly topicRefreshMs: number;

  private sourceAdmin?: Admin;
  private targetAdmin?: Admin;
  private sourceProducer?: Producer;
  private targetProducer?: Producer;
  private readonly consumer: SupervisedConsumer;
  private readonly targetPartitions = new Map<string, number>();
  /** Exactly-once: for each source partition, the next offset the target has recorded; lower ones are done. */
  private readonly committedAtTarget = new Map<string, bigint>();
  private readonly partitionLag = new Map<string, number>();
  /**
   * Per source partition, the timestamp of the oldest record fetched and not yet forwarded. After a batch
   * that left records behind it is the batch's last timestamp: the next record is no older.
   */
  private readonly oldestPendingAt = new Map<string, number>();
  private currentState: LinkState = "starting";
  private paused = false;
  private manualRequest: ManualRequest | undefined;
  private lastForwardedAt: Date | undefined;
  private lastError: string | undefined;

  constructor(options: LinkWorkerOptions) {
    this.link = options.link;
    this.id = `${options.link.from}->${options.link.to}`;
    this.logger = options.logger.child({ link: this.id });
    this.metrics = options.metrics;
    this.relayPlan = options.relayPlan;
    this.now = options.now ?? (() => new Date());
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5000;
    this.topicRefreshMs = options.topicRefreshMs ?? 30_000;
    const instance = options.instanceId ?? os.hostname();
    this.sourceKafka = createKafka(options.source.kafka, `tandem-bridge-${this.id}`, this.logger);
    this.targetKafka = createKafka(options.target.kafka, `tandem-bridge-${this.id}`, this.logger);
    this.translator = new SchemaTranslator(options.source.registry, options.target.registry);
    this.groupId = `tandem-bridge.${options.link.from}-${options.link.to}`;
    this.eosGroupId = `tandem-bridge-eos.${options.link.from}-${options.link.to}`;
    this.transactionalId = `tandem-bridge.${options.link.from}-${options.link.to}.${instance}`;
    this.consumer = this.supervisedConsumer();
    this.setState("starting");
  }

  /** Connects (retrying while a cluster is down) and starts forwarding; resolves once consuming. */
  async start(): Promise<void> {
    await this.connect();
    this.timers.push(setInterval(() => void this.checkSchedule(), SCHEDULE_CHECK_MS));
    this.timers.push(setInterval(() => void this.emitHeartbeat(), this.heartbeatIntervalMs));
    // While a delivery waits for a peer, no batch completes: the age of what waits grows all the same.
    this.timers.push(
      setInterval(() => this.metrics.lagSeconds.set({ link: this.id }, this.lagSeconds()), LAG_SAMPLE_MS),
    );
    await this.checkSchedule();
  }

  /** Finishes the batch in flight (its offsets are committed), then disconnects. */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const timer of this.timers) clearInterval(timer);
    await this.consumer.stop();
    await Promise.all(
      [this.sourceProducer, this.targetProducer, this.sourceAdmin, this.targetAdmin].map((c) =>
        c?.disconnect().catch(() => {}),
      ),
    );
    this.setState("stopped");
  }

  /** An operator's catch-up: the link runs whatever its schedule until it has caught up. */
  requestCatchUp(): void {
    this.manualRequest = {};
    this.logger.info("catch-up requested");
    void this.checkSchedule();
  }

  status(): LinkStatus {
    return {
      link: this.id,
      state: this.currentState,
      delivery: this.link.delivery,
      schedule: this.link.schedule.kind,
      catchUpRequested: this.manualRequest !== undefined,
      lagRecords: [...this.partitionLag.values()].reduce((a, b) => a + b, 0),
      lagSeconds: this.lagSeconds(),
      lastForwardedAt: this.lastForwardedAt?.toISOString(),
      lastError: this.lastError,
    };
  }

  private setState(state: LinkState): void {
    if (state !== this.currentState) this.logger.info({ from: this.currentState, to: state }, "link state");
    this.currentState = state;
    this.metrics.setState(this.id, state);
  }

  private failed(kind: string, error: unknown): void {
    this.lastError = error instanceof Error ? error.message : String(error);
    this.metrics.errors.inc({ link: this.id, kind });
    if (this.currentState !== "down")
      this.logger.warn({ kind, error: this.lastError }, "link down, retrying");
    this.setState("down");
  }

  private async connect(): Promise<void> {
    await retryWithBackoff(
      async () => {
        this.sourceAdmin ??= this.sourceKafka.admin();
        this.targetAdmin ??= this.targetKafka.admin();
        await this.sourceAdmin.connect();
        await this.targetAdmin.connect();
        await ensureSiteTopics(this.sourceAdmin);
        await ensureSiteTopics(this.targetAdmin);
        await this.ensureRemoteTopicsAtTarget();
        this.sourceProducer ??= this.sourceKafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await this.sourceProducer.connect();
        await this.connectTargetProducer();
        await this.consumer.start();
      },
      {
        policy: this.backoff,
        signal: this.abort.signal,
        onRetry: (_attempt, error) => this.failed("connect", error),
      },
    );
  }

  private async connectTargetProducer(): Promise<void> {
    if (this.targetProducer === undefined) {
      this.targetProducer =
        this.link.delivery === "exactly-once"
          ? this.targetKafka.producer({
              transactionalId: this.transactionalId,
              idempotent: true,
              maxInFlightRequests: 1,
            })
          : this.targetKafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    }
    await this.targetProducer.connect();
  }

  /** A transactional producer left in an unknown state by an outage is replaced, not reused. */
  private async resetTargetProducer(): Promise<void> {
    const old = this.targetProducer;
    this.targetProducer = undefined;
    await old?.disconnect().catch(() => {});
    await this.connectTargetProducer();
  }

  private async wantedTopics(): Promise<string[]> {
    const existing = await this.sourceAdmin!.listTopics();
    return [...sourceTopics(this.link, existing), HEARTBEATS_TOPIC];
  }

  private supervisedConsumer(): SupervisedConsumer {
    return new SupervisedConsumer({
      kafka: this.sourceKafka,
      consumer: {
        groupId: this.groupId,
        readUncommitted: false,
        maxWaitTimeInMs: 200,
        sessionTimeout: 30_000,
      },
      retries: 8,
      run: {
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.link.delivery === "exactly-once" ? 1 : 3,
        eachBatch: (payload) => this.handleBatch(payload),
      },
      fromBeginning: true,
      wantedTopics: () => this.wantedTopics(),
      topicRefreshMs: this.topicRefreshMs,
      backoff: this.backoff,
      events: {
        // A rebalance may move partitions elsewhere: what is known of them is learnt again from the next batches.
        created: (consumer) =>
          consumer.on(consumer.events.GROUP_JOIN, () => {
            this.committedAtTarget.clear();
            this.partitionLag.clear();
            this.oldestPendingAt.clear();
          }),
        crashed: (error) => this.failed("consumer", error),
        replacementFailed: (_attempt, error) => this.failed("consumer", error),
        // Remote topics that appeared at the source (a new site upstream).
        resubscribing: (topics) => this.logger.info({ topics }, "new source topics: resubscribing"),
        topicCheckFailed: (error) =>
          this.logger.debug({ error: (error as Error).message }, "topic refresh failed"),
        consuming: () => {
          if (this.currentState === "starting" || this.currentState === "down") {
            this.setState(this.paused ? "paused" : "running");
          }
        },
      },
    });
  }

  private async checkSchedule(): Promise<void> {
    if (this.abort.signal.aborted) return;
    if (this.manualRequest !== undefined && (await this.caughtUp())) {
      this.logger.info("catch-up done");
      this.manualRequest = undefined;
    }
    const open = scheduleState(this.link.schedule, this.now(), this.manualRequest) === "open";
    if (open === !this.paused) return;
    this.paused = !open;
    if (this.paused) this.consumer.pause();
    else this.consumer.resume();
    if (this.currentState !== "down") this.setState(this.paused ? "paused" : "running");
  }

  /** True when the group's committed offsets reach the end of every data topic at the source. */
  private async caughtUp(): Promise<boolean> {
    const admin = this.sourceAdmin;
    // Without a consumer running, nothing says which topics the catch-up covers.
    if (admin === undefined || this.consumer.topics.length === 0) return false;
    try {
      const topics = this.consumer.topics.filter((topic) => topic !== HEARTBEATS_TOPIC);
      const committed = await admin.fetchOffsets({ groupId: this.groupId, topics });
      for (const { topic, partitions } of committed) {
        const ends = await admin.fetchTopicOffsets(topic);
        for (const end of ends) {
          const at = partitions.find((p) => p.partition === end.partition)?.offset ?? "-1";
          const position = BigInt(at) < 0n ? BigInt(end.low) : BigInt(at);
          if (position < BigInt(end.high)) return false;
        }
      }
      return true;
    } catch {
      return false;
    }
  }

  private async emitHeartbeat(): Promise<void> {
    try {
      await this.sourceProducer?.send({
        topic: HEARTBEATS_TOPIC,
        acks: -1,
        messages: [heartbeatMessage(this.id, new Date())],
      });
    } catch (error) {
      this.logger.debug({ error: (error as Error).message }, "heartbeat not sent");
    }
  }

  /**
   * The target topics of the link's own streams exist from the start, so that the target's materializer
   * subscribes to them before the first record arrives.
   */
  private async ensureRemoteTopicsAtTarget(): Promise<void> {
    for (const stream of this.link.streams) {
      const local = STREAM_TOPICS[stream];
      await this.targetPartitionFor(local, remoteTopic(this.link.from, local), 0);
    }
  }

  private async targetPartitionFor(
    sourceTopic: string,
    targetTopic: string,
    partition: number,
  ): Promise<number> {
    let count = this.targetPartitions.get(targetTopic);
    if (count === undefined) {
      const wanted = Math.max(1, await partitionCount(this.sourceAdmin!, sourceTopic));
      await ensureTopics(this.targetAdmin!, [{ topic: targetTopic, numPartitions: wanted }]);
      count = await partitionCount(this.targetAdmin!, targetTopic);
      this.targetPartitions.set(targetTopic, count);
    }
    return partition % count;
  }

  /** Exactly-once: the next offset of a source partition already recorded at the target. */
  private async recordedAtTarget(topic: string, partition: number): Promise<bigint> {
    const key = partitionKey(topic, partition);
    const cached = this.committedAtTarget.get(key);
    if (cached !== undefined) return cached;
    const offsets = await this.targetAdmin!.fetchOffsets({ groupId: this.eosGroupId, topics: [topic] });
    const offset = offsets[0]?.partitions.find((p) => p.partition === partition)?.offset ?? "-1";
    const next = BigInt(offset) < 0n ? -1n : BigInt(offset);
    this.committedAtTarget.set(key, next);
    return next;
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset } = payload;
    const { topic, partition } = batch;
    const eos = this.link.delivery === "exactly-once";
    const key = partitionKey(topic, partition);
    this.partitionLag.set(key, Number(batch.offsetLag()));
    const first = batch.messages[0];
    if (first !== undefined) this.oldestPendingAt.set(key, Number(first.timestamp));
    this.metrics.lagRecords.set({ link: this.id }, this.status().lagRecords);
    if (this.paused || this.abort.signal.aborted) return;

    const delivered = await this.consumer.retryBatch(
      payload,
      async () => {
        const skipBelow = eos ? await this.recordedAtTarget(topic, partition) : -1n;
        const { forwards, deadLetters, bytes } = await this.planBatch(
          batch.messages,
          topic,
          partition,
          skipBelow,
        );
        if (deadLetters.length > 0) {
          await this.sourceProducer!.send({ topic: DLQ_TOPIC, acks: -1, messages: deadLetters });
        }
        const requests = chunkBySize(forwards);
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        if (eos) {
          const transaction = await this.targetProducer!.transaction();
          try {
            for (const topicMessages of requests) await transaction.sendBatch({ topicMessages });
            await transaction.sendOffsets({
              consumerGroupId: this.eosGroupId,
              topics: [{ topic, partitions: [{ partition, offset: next }] }],
            });
            await transaction.commit();
          } catch (error) {
            await transaction.abort().catch(() => {});
            await this.resetTargetProducer().catch(() => {});
            throw error;
          }
          this.committedAtTarget.set(key, BigInt(next));
        } else {
          for (const topicMessages of requests)
            await this.targetProducer!.sendBatch({ topicMessages, acks: -1 });
        }
        return { forwarded: forwards.length, deadLettered: deadLetters.length, bytes, next };
      },
      { onRetry: (_attempt, error) => this.failed("deliver", error) },
    );
    if (delivered === undefined) return;
    if (this.currentState === "down" || this.currentState === "starting") {
      this.setState(this.paused ? "paused" : "running");
    }

    resolveOffset(batch.lastOffset());
    await this.consumer
      .commitOffsets([{ topic, partition, offset: delivered.next }])
      .catch((error: unknown) => {
        // Exactly-once keeps its position at the target; at-least-once re-forwards, harmlessly, after a restart.
        this.logger.debug({ error: (error as Error).message }, "source offset commit failed");
      });
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
    const last = batch.messages.at(-1);
    if (Number(batch.offsetLag()) > 0 && last !== undefined)
      this.oldestPendingAt.set(key, Number(last.timestamp));
    else this.oldestPendingAt.delete(key);
    this.metrics.lagSeconds.set({ link: this.id }, this.lagSeconds());
    if (delivered.forwarded > 0) this.lastForwardedAt = now;
  }

  /** Decides, record by record, what goes to the target and what to the dead-letter queue. */
  private async planBatch(
    messages: EachBatchPayload["batch"]["messages"],
    topic: string,
    partition: number,
    skipBelow: bigint,
  ): Promise<{ forwards: Array<Message & { topic: string }>; deadLetters: Message[]; bytes: number }> {
    const forwards: Array<Message & { topic: string }> = [];
    const deadLetters: Message[] = [];
    let bytes = 0;
    const source = { site: this.link.from, topic, partition };
    for (const message of messages) {
      if (BigInt(message.offset) < skipBelow) continue;
      if (topic === HEARTBEATS_TOPIC) {
        const heartbeat = parseHeartbeat(message);
        if (heartbeat?.link !== this.id) continue;
        forwards.push({
          topic: HEARTBEATS_TOPIC,
          partition: 0,
          key: message.key,
          value: message.value,
          headers: { ...message.headers, [HEARTBEAT_FORWARDED_AT_HEADER]: String(Date.now()) },
        });
        this.metrics.heartbeatLatency.set({ link: this.id }, (Date.now() - heartbeat.emittedAtMs) / 1000);
        continue;
      }
      const parsed = parseHeaders(message.headers);
      if (!parsed.ok) {
        const reason = `malformed tandem headers: ${parsed.problems.map((p) => `${p.header} ${p.problem}`).join("; ")}`;
        deadLetters.push(this.deadLetter(message, source, reason));
        continue;
      }
      const decision = route(this.link, topic, parsed.headers, this.relayPlan);
      if (decision.action === "skip") {
        this.metrics.recordsSkipped.inc({ link: this.id, reason: decision.reason });
        continue;
      }
      const oversized = oversizedProblem(message.value);
      if (oversized !== undefined) {
        // Without its value, so that the DLQ record fits the broker; the original stays at the source.
        const reason = `${oversized} (value not copied: it stays at ${topic}/${partition}@${message.offset})`;
        deadLetters.push(this.deadLetter({ ...message, value: null }, source, reason));
        continue;
      }
      let value: Buffer | null;
      try {
        value = await this.translator.translate(message.value, decision.targetTopic);
      } catch (error) {
        if (!(error instanceof UntranslatableRecord)) throw error;
        deadLetters.push(this.deadLetter(message, source, `schema translation: ${error.message}`));
        continue;
      }
      const forged = this.forgedIdentityProblem(message.value, parsed.headers);
      if (forged !== undefined) {
        deadLetters.push(this.deadLetter(message, source, forged));
        continue;
      }
      const targetPartition = await this.targetPartitionFor(topic, decision.targetTopic, partition);
      forwards.push({
        topic: decision.targetTopic,
        partition: targetPartition,
        key: message.key,
        value,
        timestamp: message.timestamp,
        headers: { ...message.headers, [HEADER_PATH]: decision.headers.path.join(",") },
      });
      bytes += (message.key?.length ?? 0) + (value?.length ?? 0);
    }
    return { forwards, deadLetters, bytes };
  }

  /**
   * On a filtered link the tenant and group headers decide what crosses, so they must be the value's own:
   * a record whose headers name other identities than its value is refused, never forwarded.
   */
  private forgedIdentityProblem(
    value: Buffer | null,
    headers: { tenantId: string; groupId: string },
  ): string | undefined {
    const { tenants, groups } = this.link.filters;
    if (!isRestrictive(tenants) && !isRestrictive(groups)) return undefined;
    const unreadable = "filtered link: the value's tenant and group cannot be read to check the headers";
    if (value === null) return `${unreadable}: record has no value`;
    const wire = parseWireFormat(value);
    if (!wire.ok) return `${unreadable}: value is not in the Confluent wire format: ${wire.problem}`;
    const inValue = peekIdentities(value);
    if (inValue === undefined) return `${unreadable}: the Avro body ends or breaks before them`;
    if (inValue.tenantId !== headers.tenantId || inValue.groupId !== headers.groupId) {
      return (
        `filtered link: headers name tenant ${headers.tenantId} group ${headers.groupId}, ` +
        `the value tenant ${inValue.tenantId} group ${inValue.groupId}`
      );
    }
    return undefined;
  }

  private deadLetter(
    message: EachBatchPayload["batch"]["messages"][number],
    source: { site: string; topic: string; partition: number },
    reason: string,
  ): Message {
    this.logger.warn({ ...source, offset: message.offset, reason }, "record sent to the dead-letter queue");
    return deadLetterMessage({
      key: message.key,
      value: message.value,
      headers: message.headers,
      reason,
      site: source.site,
      component: `bridge ${this.id}`,
      source: { topic: source.topic, partition: source.partition, offset: message.offset },
    });
  }

  private lagSeconds(): number {
    const oldest = Math.min(...this.oldestPendingAt.values());
    return Number.isFinite(oldest) ? Math.max(0, Date.now() - oldest) / 1000 : 0;
  }
}
