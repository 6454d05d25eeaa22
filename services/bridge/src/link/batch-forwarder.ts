import type { Batch, KafkaMessage, Message, Producer } from "kafkajs";
import type { LinkConfig } from "@tandem/config";
import { DLQ_TOPIC, HEADER_EVENT_ID, HEARTBEATS_TOPIC } from "@tandem/events";
import { deadLetterMessage } from "@tandem/kafka";
import { HEARTBEAT_FORWARDED_AT_HEADER, parseHeartbeat } from "@tandem/replication";
import { isPermanent, type Logger } from "@tandem/runtime";
import { chunkBySize } from "../core/batching";
import { DuplicateWindow } from "../core/duplicate-window";
import { planRecord, type PlanContext, type PlannerPorts } from "../core/record-planner";
import type { RelayPlan } from "@tandem/replication";
import type { Delivery } from "./delivery";
import type { LinkMetrics } from "./link-metrics";
import type { SchemaTranslator } from "./schema-translator";
import type { TargetTopicSync } from "./topic-sync";

export interface Forwarded {
  forwarded: number;
  deadLettered: number;
  bytes: number;
  /** The source offset after the batch, to commit. */
  next: string;
}

/** Per source partition, the event ids kept to spot one delivered twice: a few batches' worth. */
const DUPLICATE_WINDOW_IDS = 10_000;

/**
 * A link's data path: each source batch is planned record by record, what cannot cross goes to the source
 * site's DLQ, the rest is delivered to the target.
 */
export class BatchForwarder {
  private readonly ports: PlannerPorts;
  private readonly window = new DuplicateWindow(DUPLICATE_WINDOW_IDS);

  constructor(
    private readonly deps: {
      link: LinkConfig;
      linkId: string;
      relayPlan: RelayPlan;
      logger: Logger;
      metrics: LinkMetrics;
      translator: SchemaTranslator;
      topics: TargetTopicSync;
      delivery: Delivery;
      /** Writes the DLQ records at the source site. */
      sourceProducer: Producer;
      /** Below the target's `max.message.bytes`. */
      maxRequestBytes: number;
    },
  ) {
    const { translator, topics } = deps;
    this.ports = {
      translate: async (value, targetTopic) => {
        try {
          return { ok: true, value: await translator.translate(value, targetTopic) };
        } catch (error) {
          if (!isPermanent(error)) throw error;
          return { ok: false, problem: error.message };
        }
      },
      targetPartition: (sourceTopic, targetTopic, partition) =>
        topics.targetPartition(sourceTopic, targetTopic, partition),
      heartbeatOf: parseHeartbeat,
    };
  }

  /** Resolves once the target holds the batch; throws when it must be tried again. */
  async forward(batch: Batch): Promise<Forwarded> {
    const { topic, partition } = batch;
    const writer = await this.deps.delivery.writer({ topic, partition });
    const { forwards, deadLetters, bytes, alreadyDelivered } = await this.plan(batch.messages, {
      topic,
      partition,
      skipBelow: writer.resumeFrom,
    });
    if (deadLetters.length > 0) {
      await this.deps.sourceProducer.send({ topic: DLQ_TOPIC, acks: -1, messages: deadLetters });
    }
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    await writer.deliver(chunkBySize(forwards, this.deps.maxRequestBytes), next);
    this.countDuplicates(topic, partition, forwards, alreadyDelivered);
    return { forwarded: forwards.length, deadLettered: deadLetters.length, bytes, next };
  }

  /**
   * Detection beside prevention: what was read again but not forwarded, and any event id this process
   * delivers twice from a partition (a redelivery, or the source holding the event twice).
   */
  private countDuplicates(
    topic: string,
    partition: number,
    forwards: Message[],
    alreadyDelivered: number,
  ): void {
    const { linkId, logger, metrics } = this.deps;
    metrics.alreadyDelivered.inc({ link: linkId, topic }, alreadyDelivered);
    const ids = forwards.flatMap((m) => m.headers?.[HEADER_EVENT_ID]?.toString() ?? []);
    const seen = this.window.delivered(`${topic}/${partition}`, ids);
    if (seen.length === 0) return;
    metrics.duplicatesSeen.inc({ link: linkId }, seen.length);
    logger.warn(
      { topic, partition, count: seen.length, eventIds: seen.slice(0, 5) },
      "event ids delivered twice",
    );
  }

  private async plan(
    messages: KafkaMessage[],
    at: Pick<PlanContext, "topic" | "partition" | "skipBelow">,
  ): Promise<{
    forwards: Array<Message & { topic: string }>;
    deadLetters: Message[];
    bytes: number;
    alreadyDelivered: number;
  }> {
    const { link, linkId, relayPlan, metrics } = this.deps;
    const context: PlanContext = { link, linkId, relayPlan, ...at };
    const forwards: Array<Message & { topic: string }> = [];
    const deadLetters: Message[] = [];
    let bytes = 0;
    let alreadyDelivered = 0;
    for (const message of messages) {
      const plan = await planRecord(message, context, this.ports);
      switch (plan.action) {
        case "forward": {
          const { action: _, ...forward } = plan;
          forwards.push(forward);
          bytes += (plan.key?.length ?? 0) + (plan.value?.length ?? 0);
          break;
        }
        case "forward-heartbeat":
          forwards.push({
            topic: HEARTBEATS_TOPIC,
            partition: 0,
            key: message.key,
            value: message.value,
            headers: { ...message.headers, [HEARTBEAT_FORWARDED_AT_HEADER]: String(Date.now()) },
          });
          metrics.heartbeatLatency.set({ link: linkId }, (Date.now() - plan.emittedAtMs) / 1000);
          break;
        case "skip":
          metrics.recordsSkipped.inc({ link: linkId, reason: plan.reason });
          break;
        case "dead-letter":
          deadLetters.push(
            this.deadLetter(plan.keepValue ? message : { ...message, value: null }, at, plan.reason),
          );
          break;
        case "drop":
          if (plan.reason === "recorded-at-target") alreadyDelivered++;
          break;
      }
    }
    return { forwards, deadLetters, bytes, alreadyDelivered };
  }

  private deadLetter(
    message: KafkaMessage,
    at: { topic: string; partition: number },
    reason: string,
  ): Message {
    const { link, linkId, logger } = this.deps;
    const source = { site: link.from, topic: at.topic, partition: at.partition };
    logger.warn({ ...source, offset: message.offset, reason }, "record sent to the dead-letter queue");
    return deadLetterMessage({
      key: message.key,
      value: message.value,
      headers: message.headers,
      reason,
      site: link.from,
      component: `bridge ${linkId}`,
      source: { topic: at.topic, partition: at.partition, offset: message.offset },
    });
  }
}
