import type { Batch, KafkaMessage, Message, Producer } from "kafkajs";
import type { LinkConfig } from "@tandem/config";
import { DLQ_TOPIC, HEARTBEATS_TOPIC } from "@tandem/events";
import { deadLetterMessage } from "@tandem/kafka";
import { HEARTBEAT_FORWARDED_AT_HEADER, parseHeartbeat } from "@tandem/replication";
import { isPermanent, type Logger } from "@tandem/runtime";
import { chunkBySize } from "../core/batching";
import { planRecord, type PlanContext, type PlannerPorts } from "../core/record-planner";
import type { RelayPlan } from "../core/relay-plan";
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

/**
 * A link's data path: each source batch is planned record by record, what cannot cross goes to the source
 * site's DLQ, the rest is delivered to the target.
 */
export class BatchForwarder {
  private readonly ports: PlannerPorts;

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
    const skipBelow = await this.deps.delivery.resumeFrom(topic, partition);
    const { forwards, deadLetters, bytes } = await this.plan(batch.messages, { topic, partition, skipBelow });
    if (deadLetters.length > 0) {
      await this.deps.sourceProducer.send({ topic: DLQ_TOPIC, acks: -1, messages: deadLetters });
    }
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    await this.deps.delivery.deliver(chunkBySize(forwards, this.deps.maxRequestBytes), {
      topic,
      partition,
      next,
    });
    return { forwarded: forwards.length, deadLettered: deadLetters.length, bytes, next };
  }

  private async plan(
    messages: KafkaMessage[],
    at: Pick<PlanContext, "topic" | "partition" | "skipBelow">,
  ): Promise<{ forwards: Array<Message & { topic: string }>; deadLetters: Message[]; bytes: number }> {
    const { link, linkId, relayPlan, metrics } = this.deps;
    const context: PlanContext = { link, linkId, relayPlan, ...at };
    const forwards: Array<Message & { topic: string }> = [];
    const deadLetters: Message[] = [];
    let bytes = 0;
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
          break;
      }
    }
    return { forwards, deadLetters, bytes };
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
