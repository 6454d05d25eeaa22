import { randomUUID } from "node:crypto";
import type { KafkaMessage } from "kafkajs";
import { CALLS_TOPIC, EventCodec, buildHeaders, parseHeaders, type CallCompleted } from "@tandem/events";
import { ensureSiteTopics, ensureTopics } from "@tandem/kafka";
import type { SiteEndpoints } from "@tandem/stack";
import { kafkaFor, readTopic } from "./clients";

export function callEvent(origin: string, tenantId: string, groupId: string, index = 0): CallCompleted {
  const startedAtMs = Date.parse("2026-11-20T10:00:00Z") + index * 1000;
  return {
    eventId: randomUUID(),
    callId: randomUUID(),
    tenantId,
    groupId,
    participantUserIds: [],
    originSite: origin,
    recorderId: "test-recorder",
    direction: "OUTBOUND",
    caller: { number: "+12125550100", name: null },
    callee: { number: "+442071234567", name: null },
    startedAtMs,
    endedAtMs: startedAtMs + 30_000,
    durationMs: 30_000,
    audio: null,
    attributes: { index: String(index) },
  };
}

/**
 * Publishes `count` calls of one tenant at a site, as a recorder would (without audio), in order; with
 * `upstream`, as a bridge from that site would, into the site's `<upstream>.calls.completed`.
 */
export async function publishCalls(
  site: SiteEndpoints,
  count: number,
  tenantId = randomUUID(),
  groupId = randomUUID(),
  upstream?: string,
): Promise<CallCompleted[]> {
  const topic = upstream === undefined ? CALLS_TOPIC : `${upstream}.${CALLS_TOPIC}`;
  const kafka = kafkaFor(site);
  const admin = kafka.admin();
  await admin.connect();
  await ensureSiteTopics(admin);
  if (upstream !== undefined) await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
  await admin.disconnect();
  const codec = new EventCodec({ host: site.registry.url });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const origin = upstream ?? site.site;
  const path = upstream === undefined ? undefined : [upstream, site.site];
  const events = Array.from({ length: count }, (_, i) => callEvent(origin, tenantId, groupId, i));
  const messages = await Promise.all(
    events.map(async (event) => ({
      key: event.callId,
      value: await codec.encode(topic, event),
      headers: buildHeaders({ eventId: event.eventId, origin, path, tenantId, groupId }),
    })),
  );
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
  return events;
}

export interface ReceivedCall {
  event: CallCompleted;
  path: string[];
  partition: number;
  message: KafkaMessage;
}

/** The calls of one tenant in a topic at a site, decoded with that site's own registry. */
export async function callsAt(site: SiteEndpoints, topic: string, tenantId: string): Promise<ReceivedCall[]> {
  const kafka = kafkaFor(site);
  const admin = kafka.admin();
  await admin.connect();
  const exists = (await admin.listTopics()).includes(topic);
  await admin.disconnect();
  if (!exists) return [];
  const codec = new EventCodec({ host: site.registry.url });
  const received: ReceivedCall[] = [];
  for (const message of await readTopic(site, topic, { idleMs: 1500 })) {
    const headers = parseHeaders(message.headers);
    if (!headers.ok || headers.headers.tenantId !== tenantId) continue;
    const decoded = await codec.decode(message.value, {
      topic,
      partition: message.partition,
      offset: message.offset,
    });
    received.push({
      event: decoded.event as CallCompleted,
      path: headers.headers.path,
      partition: message.partition,
      message,
    });
  }
  return received;
}

/** For each partition, the event ids in the order they first appear (a redelivery does not reorder). */
export function orderByPartition(calls: ReceivedCall[]): Map<number, string[]> {
  const order = new Map<number, string[]>();
  for (const call of calls) {
    const list = order.get(call.partition) ?? [];
    if (!list.includes(call.event.eventId)) list.push(call.event.eventId);
    order.set(call.partition, list);
  }
  return order;
}

export async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    value = await probe();
  }
  return value;
}
