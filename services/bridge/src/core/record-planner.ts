import type { LinkConfig } from "@tandem/config";
import {
  HEADER_PATH,
  HEARTBEATS_TOPIC,
  oversizedProblem,
  parseHeaders,
  parseWireFormat,
  peekIdentities,
  type KafkaHeaders,
} from "@tandem/events";
import { isRestrictive } from "./filters";
import type { RelayPlan } from "@tandem/replication";
import { route, type SkipReason } from "./routing";

/** A record as read at the source: the fields of a kafkajs message that the plan needs. */
export interface SourceRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: KafkaHeaders;
}

export type Translation = { ok: true; value: Buffer | null } | { ok: false; problem: string };

/** What a plan asks of the registries and clusters. A transient failure throws: the batch is retried. */
export interface PlannerPorts {
  /** The value with the target registry's schema id; `ok: false` when it can never be translated. */
  translate(value: Buffer | null, targetTopic: string): Promise<Translation>;
  /** The partition at the target for a source partition, the target topic created if missing. */
  targetPartition(sourceTopic: string, targetTopic: string, partition: number): Promise<number>;
  /** The heartbeat a record of `tandem.heartbeats` carries, if it is one. */
  heartbeatOf(record: SourceRecord): { link: string; emittedAtMs: number } | undefined;
}

export interface PlanContext {
  link: Pick<LinkConfig, "from" | "to" | "streams" | "filters">;
  /** `from->to`, as heartbeats name their link. */
  linkId: string;
  relayPlan?: RelayPlan;
  topic: string;
  partition: number;
  /** Exactly-once: records below this offset are already recorded at the target. */
  skipBelow: bigint;
}

export type RecordPlan =
  | {
      action: "forward";
      topic: string;
      partition: number;
      key: Buffer | null;
      value: Buffer | null;
      timestamp: string;
      headers: KafkaHeaders;
    }
  /** The link's own heartbeat, forwarded to the target's `tandem.heartbeats`. */
  | { action: "forward-heartbeat"; emittedAtMs: number }
  /** Not forwarded by design (filter, cycle, stream); counted. */
  | { action: "skip"; reason: SkipReason }
  /** Not this link's business: already delivered, or another link's heartbeat. */
  | { action: "drop"; reason: "recorded-at-target" | "other-link-heartbeat" }
  /** To the source site's DLQ; an oversized value stays at the source, so that the DLQ record fits. */
  | { action: "dead-letter"; reason: string; keepValue: boolean };

/** Decides what the link does with one record read at its source. */
export async function planRecord(
  record: SourceRecord,
  context: PlanContext,
  ports: PlannerPorts,
): Promise<RecordPlan> {
  const { link, topic, partition } = context;
  if (BigInt(record.offset) < context.skipBelow) return { action: "drop", reason: "recorded-at-target" };
  if (topic === HEARTBEATS_TOPIC) {
    const heartbeat = ports.heartbeatOf(record);
    if (heartbeat?.link !== context.linkId) return { action: "drop", reason: "other-link-heartbeat" };
    return { action: "forward-heartbeat", emittedAtMs: heartbeat.emittedAtMs };
  }
  const parsed = parseHeaders(record.headers);
  if (!parsed.ok) {
    const problems = parsed.problems.map((p) => `${p.header} ${p.problem}`).join("; ");
    return deadLetter(`malformed tandem headers: ${problems}`);
  }
  const decision = route(link, topic, parsed.headers, context.relayPlan);
  if (decision.action === "skip") return { action: "skip", reason: decision.reason };
  const oversized = oversizedProblem(record.value);
  if (oversized !== undefined) {
    const reason = `${oversized} (value not copied: it stays at ${topic}/${partition}@${record.offset})`;
    return { action: "dead-letter", reason, keepValue: false };
  }
  const translation = await ports.translate(record.value, decision.targetTopic);
  if (!translation.ok) return deadLetter(`schema translation: ${translation.problem}`);
  const forged = forgedIdentityProblem(link.filters, record.value, parsed.headers);
  if (forged !== undefined) return deadLetter(forged);
  return {
    action: "forward",
    topic: decision.targetTopic,
    partition: await ports.targetPartition(topic, decision.targetTopic, partition),
    key: record.key,
    value: translation.value,
    timestamp: record.timestamp,
    headers: { ...record.headers, [HEADER_PATH]: decision.headers.path.join(",") },
  };
}

const deadLetter = (reason: string): RecordPlan => ({ action: "dead-letter", reason, keepValue: true });

/**
 * On a filtered link the tenant and group headers decide what crosses, so they must be the value's own:
 * a record whose headers name other identities than its value is refused, never forwarded.
 */
function forgedIdentityProblem(
  filters: LinkConfig["filters"],
  value: Buffer | null,
  headers: { tenantId: string; groupId: string },
): string | undefined {
  if (!isRestrictive(filters.tenants) && !isRestrictive(filters.groups)) return undefined;
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
