/**
 * The I/O of `tandem repair`: reads the sites' databases, publishes into the target's Kafka, waits for
 * the target's materializer and audits the result. What to do is decided by ./core/plan.ts.
 */
import pino from "pino";
import type pg from "pg";
import type { Producer } from "kafkajs";
import { v5 as uuidv5 } from "uuid";
import type { SiteConfig, Topology } from "@tandem/config";
import { registryAuthOf } from "@tandem/config";
import { DLQ_TOPIC, EventCodec, buildHeaders, type CallCompleted, type UserChanged } from "@tandem/events";
import { createKafka, deadLetterMessage } from "@tandem/kafka";
import {
  audioStates,
  callBucketDigests,
  callEventsById,
  callsInBuckets,
  createPool,
  deadLetteredCalls,
  recordDlq,
  userBucketDigests,
  userStatesById,
  usersInBuckets,
  type CallSummary,
} from "@tandem/materializer";
import { emptyUserState, redeliveries, type UserState } from "@tandem/materializer/users";
import { TargetTopicSync } from "@tandem/bridge";
import { baseTopic, gapDeprives } from "@tandem/replication";
import { isUnavailable, retryWithBackoff } from "@tandem/runtime";
import {
  acknowledgeGaps,
  openGaps,
  differingBuckets,
  Expectations,
  verifySites,
  type VerifyReport,
} from "@tandem/operations";
import {
  AUDIO_LOST_REASON,
  planCallRepairs,
  planUserRepairs,
  type CallAction,
  type CallRepairPlan,
  type UserRepairPlan,
} from "./core/plan";

export interface RepairRequest {
  target: string;
  from?: string;
  tenants?: string[];
  dryRun: boolean;
  inFlightGraceMs: number;
  /** How long to wait for the target's materializer to apply the calls and copy their audio. */
  applyTimeoutMs: number;
}

/** Where the repair reports to: lines for the operator, and a progress bar for long work. */
export interface RepairConsole {
  say(line: string): void;
  progress(total: number, unit: string): { update(done: number): void; stop(): void };
}

export interface RepairOutcome {
  plan: CallRepairPlan;
  users: UserRepairPlan;
  /** User writes published into the target. */
  userWrites: number;
  published: number;
  publishSeconds: number;
  deadLettered: number;
  /** Republished calls the target holds with their audio (or without audio, when the call has none). */
  applied: number;
  /** The final audit of the target against the sites that fed it; undefined for a dry run. */
  report?: VerifyReport;
  consistent: boolean;
  /** Lost ranges that had deprived the target, marked repaired because it is now consistent. */
  gapsHealed: number;
}

/** Namespace of the ids of a repair's dead-letter records: one per call, whatever the number of runs. */
const REPAIR_DLQ_NAMESPACE = "0b5c8f8e-64a9-4c3e-9f57-7d2e4b1a9c36";
/** Calls read and published per round trip. */
const CHUNK = 200;
const BACKOFF = { initialMs: 500, maxMs: 30_000, multiplier: 2, jitter: 0.5 };
const POLL_MS = 1_000;

export async function repair(
  topology: Topology,
  request: RepairRequest,
  out: RepairConsole,
): Promise<RepairOutcome> {
  const { target } = request;
  const siteIds = topology.sites.map((s) => s.id);
  const siteConfig = (id: string) => topology.sites.find((s) => s.id === id)!;
  /** A site that does not answer is waited for, as the services do. */
  const patiently = <T>(site: string, what: string, action: () => Promise<T>) =>
    retryWithBackoff(action, {
      policy: BACKOFF,
      retryIf: isUnavailable,
      onRetry: (attempt, error, waitMs) =>
        out.say(
          `  ${site} unreachable (${what}, attempt ${attempt}): ${error instanceof Error ? error.message : String(error)}; retrying in ${(waitMs / 1000).toFixed(1)}s`,
        ),
    });
  const pools = new Map(siteIds.map((id) => [id, createPool(siteConfig(id).postgres, 2)]));
  try {
    const routes = new Expectations(topology);
    const bySite = await readDifferingCalls(pools, request.tenants, patiently);
    const candidates = [...new Set([...bySite.values()].flatMap((calls) => [...calls.keys()]))];
    const targetPool = pools.get(target)!;
    const deadLettered = await patiently(target, "database", () =>
      deadLetteredCalls(targetPool, candidates, AUDIO_LOST_REASON),
    );
    const plan = planCallRepairs({
      target,
      from: request.from,
      bySite,
      routes,
      deadLettered,
      now: new Date(),
      inFlightGraceMs: request.inFlightGraceMs,
    });
    const users = planUserRepairs({
      target,
      from: request.from,
      statesBySite: await readDifferingUsers(pools, request.tenants, patiently),
      routes,
    });
    for (const line of [...describePlan(plan), ...describeUserPlan(users)]) out.say(line);
    const outcome: RepairOutcome = {
      plan,
      users,
      userWrites: 0,
      published: 0,
      publishSeconds: 0,
      deadLettered: 0,
      applied: 0,
      consistent: false,
      gapsHealed: 0,
    };
    if (request.dryRun) {
      out.say("dry run: nothing published");
      return outcome;
    }

    const republish = plan.actions.filter((a) => a.kind === "republish");
    const deadLetters = plan.actions.filter((a) => a.kind === "dead-letter");
    const userWrites = users.users.flatMap((u) => u.redeliveries);
    if (republish.length > 0 || deadLetters.length > 0 || userWrites.length > 0) {
      const site = siteConfig(target);
      const producer = createKafka(site.kafka, "tandem-repair", pino({ level: "silent" })).producer({
        idempotent: true,
        maxInFlightRequests: 1,
      });
      const codec = new EventCodec({ host: site.registry.url, auth: registryAuthOf(site.registry) });
      await patiently(target, "Kafka", () => producer.connect());
      try {
        const started = performance.now();
        await ensureTargetTopics(topology, site, [...republish, ...userWrites], patiently);
        const publish = (messages: OutgoingEvent[]) => send(target, producer, codec, messages, patiently);
        outcome.published = await publishCalls(pools, republish, publish, patiently, out);
        outcome.publishSeconds = (performance.now() - started) / 1000;
        outcome.deadLettered = await sendDeadLetters(target, producer, targetPool, deadLetters, patiently);
        await publish(userWrites.map((w) => ({ ...w, origin: w.event.originSite })));
        outcome.userWrites = userWrites.length;
      } finally {
        await producer.disconnect().catch(() => {});
      }
      out.say(
        `published ${outcome.published} call(s) into ${target} in ${outcome.publishSeconds.toFixed(1)}s` +
          (outcome.publishSeconds > 0
            ? ` (${(outcome.published / outcome.publishSeconds).toFixed(0)} calls/s)`
            : "") +
          `, ${outcome.userWrites} user write(s); ${outcome.deadLettered} dead-lettered at ${target}`,
      );
      outcome.applied = await waitUntilApplied(target, targetPool, republish, request, patiently, out);
      await waitForUsers(target, targetPool, users, request, patiently, out);
    }

    const scope = request.from === undefined ? siteIds : [target, request.from];
    const report = await patiently(target, "verify", () =>
      verifySites(topology, scope, { tenants: request.tenants, inFlightGraceMs: request.inFlightGraceMs }),
    );
    // Differences between the other sites are theirs to repair: only the target's decide.
    const atTarget = report.differences.filter((d) => d.site === target);
    outcome.consistent = atTarget.length === 0;
    outcome.report = { ...report, differences: atTarget, consistent: outcome.consistent };
    if (outcome.consistent) outcome.gapsHealed = await healGaps(topology, request, patiently, out);
    return outcome;
  } finally {
    await Promise.all([...pools.values()].map((pool) => pool.end()));
  }
}

/**
 * The gaps that kept records from the target are healed once a repair leaves it consistent with every site
 * that feeds it. A repair limited to some tenants or to one source cannot vouch for a whole lost range,
 * so it leaves them open and says so.
 */
async function healGaps(
  topology: Topology,
  request: RepairRequest,
  patiently: Patiently,
  out: RepairConsole,
): Promise<number> {
  let healed = 0;
  for (const site of topology.sites) {
    const kafka = createKafka(site.kafka, "tandem-repair", pino({ level: "silent" }));
    const gaps = (await patiently(site.id, "tandem.gaps", () => openGaps(kafka))).filter((gap) =>
      gapDeprives(gap, request.target),
    );
    if (gaps.length === 0) continue;
    if (request.tenants !== undefined || request.from !== undefined) {
      out.say(
        `${gaps.length} gap(s) at ${site.id} left open: a repair limited by --tenant or --from cannot vouch for ` +
          `a whole lost range (repair without them, or accept them with tandem gaps --ack)`,
      );
      continue;
    }
    await patiently(site.id, "tandem.gaps", () => acknowledgeGaps(kafka, gaps, "repaired"));
    const records = gaps.reduce((sum, gap) => sum + gap.count, 0);
    out.say(
      `healed ${gaps.length} gap(s) at ${site.id} (${records} record(s) lost to retention): ${request.target} is consistent`,
    );
    healed += gaps.length;
  }
  return healed;
}

const UNDEFINED_TABLE = "42P01";

/** A database that no materializer has migrated: there is nothing to compare, and nothing to apply with. */
class NoSchemaError extends Error {
  constructor(site: string) {
    super(
      `${site}'s database has no Tandem tables: no materializer has run there yet (start tandem run --site ${site}, then repair)`,
    );
    this.name = "NoSchemaError";
  }
}

type Patiently = <T>(site: string, what: string, action: () => Promise<T>) => Promise<T>;

/** Every site's calls in the hash buckets whose digests differ anywhere, as verify reads them. */
async function readDifferingCalls(
  pools: ReadonlyMap<string, pg.Pool>,
  tenants: string[] | undefined,
  patiently: Patiently,
): Promise<Map<string, Map<string, CallSummary>>> {
  const digests = await Promise.all(
    [...pools].map(([site, pool]) =>
      patiently(site, "database", () => callBucketDigests(pool, tenants)).catch((error: unknown) => {
        throw (error as { code?: unknown }).code === UNDEFINED_TABLE ? new NoSchemaError(site) : error;
      }),
    ),
  );
  const buckets = differingBuckets(digests);
  const bySite = new Map<string, Map<string, CallSummary>>();
  for (const [site, pool] of pools) {
    bySite.set(site, await patiently(site, "database", () => callsInBuckets(pool, buckets, tenants)));
  }
  return bySite;
}

/** Every site's users in the hash buckets whose digests differ anywhere, as merge states. */
async function readDifferingUsers(
  pools: ReadonlyMap<string, pg.Pool>,
  tenants: string[] | undefined,
  patiently: Patiently,
): Promise<Map<string, Map<string, UserState>>> {
  const digests = await Promise.all(
    [...pools].map(([site, pool]) => patiently(site, "database", () => userBucketDigests(pool, tenants))),
  );
  const buckets = differingBuckets(digests);
  const ids = new Set<string>();
  for (const [site, pool] of pools) {
    const users = await patiently(site, "database", () => usersInBuckets(pool, buckets, tenants));
    for (const id of users.keys()) ids.add(id);
  }
  const bySite = new Map<string, Map<string, UserState>>();
  for (const [site, pool] of pools) {
    bySite.set(site, await patiently(site, "database", () => userStatesById(pool, [...ids])));
  }
  return bySite;
}

function describeUserPlan(plan: UserRepairPlan): string[] {
  const writes = plan.users.flatMap((u) => u.redeliveries);
  const lines = [
    `users: ${plan.users.length} lacking ${writes.length} write(s) to re-emit, ${plan.keptOut} write(s) kept out by the filters`,
  ];
  for (const w of writes.slice(0, LISTED)) {
    lines.push(
      `  re-emit user ${w.event.userId} write ${w.event.eventId} (${w.event.operation} ${w.event.changedFields.join(",")} at ${w.event.originSite}) into ${w.topic}, path ${w.path.join(",")}`,
    );
  }
  if (writes.length > LISTED) lines.push(`  ... and ${writes.length - LISTED} more`);
  return lines;
}

function describePlan(plan: CallRepairPlan): string[] {
  const count = (predicate: (a: CallAction) => boolean) => plan.actions.filter(predicate).length;
  const lines = [
    `calls: ${count((a) => a.kind === "republish" && a.cause === "missing")} missing and ` +
      `${count((a) => a.kind === "republish" && a.cause === "audio-failed")} with failed audio to republish, ` +
      `${count((a) => a.kind === "dead-letter")} to dead-letter (audio held nowhere), ` +
      `${count((a) => a.kind === "leave")} left as they are, ${plan.keptOut} kept out by the filters`,
  ];
  const shown = plan.actions.slice(0, LISTED);
  for (const action of shown) lines.push(`  ${describeAction(action)}`);
  if (plan.actions.length > shown.length) lines.push(`  ... and ${plan.actions.length - shown.length} more`);
  return lines;
}

/** Actions listed one by one; the rest are counted. */
const LISTED = 50;

function describeAction(action: CallAction): string {
  switch (action.kind) {
    case "republish":
      return `republish call ${action.callId} (${action.cause}) from ${action.source} into ${action.topic}, path ${action.path.join(",")}`;
    case "dead-letter":
      return `dead-letter call ${action.callId} (origin ${action.origin}): ${AUDIO_LOST_REASON}`;
    case "leave":
      return `leave call ${action.callId}: ${action.cause} (${action.detail})`;
  }
}

/**
 * A target that never received an origin's events through a bridge has no `<origin>.<topic>` yet: it is
 * created from the origin's local topic by the bridge's own topic sync (partitions, retention, cleanup).
 */
async function ensureTargetTopics(
  topology: Topology,
  target: SiteConfig,
  writes: ReadonlyArray<{ topic: string; path: string[] }>,
  patiently: Patiently,
): Promise<void> {
  if (writes.length === 0) return;
  const admin = createKafka(target.kafka, "tandem-repair", pino({ level: "silent" })).admin();
  await patiently(target.id, "Kafka", () => admin.connect());
  try {
    const existing = new Set(await patiently(target.id, "Kafka", () => admin.listTopics()));
    for (const { topic, path } of writes) {
      if (existing.has(topic)) continue;
      const origin = topology.sites.find((s) => s.id === path[0])!;
      const originAdmin = createKafka(origin.kafka, "tandem-repair", pino({ level: "silent" })).admin();
      await patiently(origin.id, "Kafka", () => originAdmin.connect());
      try {
        const sync = new TargetTopicSync(originAdmin, admin);
        await patiently(target.id, "Kafka", () => sync.targetPartition(baseTopic(topic)!, topic, 0));
      } finally {
        await originAdmin.disconnect().catch(() => {});
      }
      existing.add(topic);
    }
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** An event to write into the target: the topic, and the route its `tandem-path` header names. */
interface OutgoingEvent {
  event: CallCompleted | UserChanged;
  topic: string;
  origin: string;
  path: string[];
}

/** Encoded with the target's registry, with the headers the bridges would have written; keyed by its id. */
async function send(
  target: string,
  producer: Producer,
  codec: EventCodec,
  events: readonly OutgoingEvent[],
  patiently: Patiently,
): Promise<void> {
  if (events.length === 0) return;
  const encoded = await Promise.all(
    events.map(async ({ event, topic, origin, path }) => ({
      topic,
      message: {
        key: "callId" in event ? event.callId : event.userId,
        value: await patiently(target, "registry", () => codec.encode(topic, event)),
        headers: buildHeaders({
          eventId: event.eventId,
          origin,
          tenantId: event.tenantId,
          groupId: event.groupId,
          path,
        }),
      },
    })),
  );
  const topicMessages = [...groupBy(encoded, (m) => m.topic)].map(([topic, items]) => ({
    topic,
    messages: items.map((m) => m.message),
  }));
  await patiently(target, "Kafka", () => producer.sendBatch({ acks: -1, topicMessages }));
}

/** Each call's row read at its source, published as the CallCompleted it was (same event id and audio). */
async function publishCalls(
  pools: ReadonlyMap<string, pg.Pool>,
  actions: ReadonlyArray<Extract<CallAction, { kind: "republish" }>>,
  publish: (events: OutgoingEvent[]) => Promise<void>,
  patiently: Patiently,
  out: RepairConsole,
): Promise<number> {
  if (actions.length === 0) return 0;
  const bar = out.progress(actions.length, "calls published");
  let published = 0;
  try {
    for (const [source, fromSource] of groupBy(actions, (a) => a.source)) {
      for (let start = 0; start < fromSource.length; start += CHUNK) {
        const wanted = new Map(fromSource.slice(start, start + CHUNK).map((a) => [a.callId, a]));
        const events = await patiently(source, "database", () =>
          callEventsById(pools.get(source)!, [...wanted.keys()]),
        );
        await publish(events.map((event) => ({ ...wanted.get(event.callId)!, event })));
        published += events.length;
        bar.update(published);
      }
    }
  } finally {
    bar.stop();
  }
  return published;
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(keyOf(item));
    if (group === undefined) groups.set(keyOf(item), [item]);
    else group.push(item);
  }
  return groups;
}

/** Calls whose audio no site holds: to the target's DLQ with the reason, once, never published. */
async function sendDeadLetters(
  target: string,
  producer: Producer,
  pool: pg.Pool,
  actions: ReadonlyArray<Extract<CallAction, { kind: "dead-letter" }>>,
  patiently: Patiently,
): Promise<number> {
  if (actions.length === 0) return 0;
  const reason = `${AUDIO_LOST_REASON} (tandem repair)`;
  const messages = actions.map((a) =>
    deadLetterMessage({
      key: a.callId,
      value: JSON.stringify({ kind: "audio-lost", callId: a.callId, originSite: a.origin, sha256: a.sha256 }),
      reason,
      site: target,
      component: `repair ${target}`,
      callId: a.callId,
    }),
  );
  // Sent before it is recorded: a crash in between repeats the DLQ record at the next run, never loses it.
  await patiently(target, "Kafka", () => producer.send({ topic: DLQ_TOPIC, acks: -1, messages }));
  for (const a of actions) {
    await patiently(target, "database", () =>
      recordDlq(pool, { id: uuidv5(a.callId, REPAIR_DLQ_NAMESPACE), reason, callId: a.callId }),
    );
  }
  return actions.length;
}

/** Waits until the target's merge state holds every re-emitted write, or the timeout passes. */
async function waitForUsers(
  target: string,
  pool: pg.Pool,
  plan: UserRepairPlan,
  request: RepairRequest,
  patiently: Patiently,
  out: RepairConsole,
): Promise<void> {
  if (plan.users.length === 0) return;
  const deadline = Date.now() + request.applyTimeoutMs;
  const lacking = async () => {
    const states = await patiently(target, "database", () =>
      userStatesById(
        pool,
        plan.users.map((u) => u.userId),
      ),
    );
    return plan.users.filter(
      (u) =>
        redeliveries(
          u.redeliveries.map((r) => r.event),
          states.get(u.userId) ?? emptyUserState(u.userId),
        ).length > 0,
    ).length;
  };
  let remaining = await lacking();
  while (remaining > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    remaining = await lacking();
  }
  out.say(
    remaining === 0
      ? `${target} merged the re-emitted writes of ${plan.users.length} user(s)`
      : `${target} has not merged the writes of ${remaining} of ${plan.users.length} user(s) within ${request.applyTimeoutMs / 1000}s`,
  );
}

/**
 * Waits until the target's materializer holds every republished call with its audio copied (sha256
 * verified), or the timeout passes.
 */
async function waitUntilApplied(
  target: string,
  pool: pg.Pool,
  actions: ReadonlyArray<Extract<CallAction, { kind: "republish" }>>,
  request: RepairRequest,
  patiently: Patiently,
  out: RepairConsole,
): Promise<number> {
  if (actions.length === 0) return 0;
  const ids = actions.map((a) => a.callId);
  const deadline = Date.now() + request.applyTimeoutMs;
  const bar = out.progress(ids.length, `calls applied with audio at ${target}`);
  let states = new Map<string, string>();
  const done = () => [...states.values()].filter((s) => s === "present" || s === "none").length;
  try {
    for (;;) {
      states = await patiently(target, "database", () => audioStates(pool, ids));
      bar.update(done());
      if (done() === ids.length || Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    bar.stop();
  }
  const seconds = request.applyTimeoutMs / 1000;
  if (states.size === 0) {
    out.say(
      `no materializer seems to run at ${target}: none of the ${ids.length} published call(s) was applied within ${seconds}s (start it with tandem run --site ${target})`,
    );
  } else if (done() < ids.length) {
    out.say(
      `${target} applied ${states.size} of ${ids.length} call(s) within ${seconds}s, ${done()} with their audio copied`,
    );
  } else {
    out.say(`${target} applied all ${ids.length} call(s), audio copied and sha256 verified`);
  }
  return done();
}
