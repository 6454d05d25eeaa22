/**
 * What `tandem repair` does for each call, decided from what the sites hold: pure, the I/O is in
 * ../repair.ts. Everything published goes to the target only, as the bridges would have delivered it.
 */
import { CALLS_TOPIC, USERS_TOPIC, type UserChanged } from "@tandem/events";
import type { CallSummary } from "@tandem/materializer";
import {
  applyUserChanged,
  emptyUserState,
  eventsOfState,
  redeliveries,
  type UserState,
} from "@tandem/materializer/users";
import { remoteTopic } from "@tandem/replication";
import type { Expectations } from "@tandem/operations";

/** The routing facts of the topology that a repair needs. */
export type Routes = Pick<Expectations, "routeTo" | "reaches">;

/** The reason prefix of a repair's dead letter: a second run finds it and does not send another. */
export const AUDIO_LOST_REASON = "audio lost: no site holds a verified copy";

export type CallAction =
  | {
      kind: "republish";
      callId: string;
      cause: "missing" | "audio-failed";
      /** The site whose row is published. */
      source: string;
      origin: string;
      topic: string;
      /** The `tandem-path` header: the route the bridges would have taken to the target. */
      path: string[];
      tenantId: string;
      groupId: string;
    }
  | { kind: "dead-letter"; callId: string; origin: string; tenantId: string; sha256: string }
  | {
      kind: "leave";
      callId: string;
      cause:
        | "in-flight"
        | "audio-pending"
        | "audio-mismatch"
        | "unexpected"
        | "not-at-source"
        | "dead-lettered-before";
      detail: string;
    };

export interface CallRepairInput {
  target: string;
  /** Only this site's rows are published (`--from`). */
  from?: string;
  /** Per site (the target included), the calls it holds in the buckets that differ. */
  bySite: ReadonlyMap<string, ReadonlyMap<string, CallSummary>>;
  routes: Routes;
  /** Calls already dead-lettered at the target by an earlier repair. */
  deadLettered: ReadonlySet<string>;
  now: Date;
  /** A call first seen this recently anywhere may still be on its way: left to the bridges. */
  inFlightGraceMs: number;
}

export interface CallRepairPlan {
  actions: CallAction[];
  /** Calls held elsewhere that the topology's filters keep out of the target: never published there. */
  keptOut: number;
}

/** Refuses a `--from` that the topology does not connect to the target; undefined when it may feed it. */
export function sourceRefusal(routes: Routes, from: string, target: string): string | undefined {
  if (from === target) return `--from ${from}: the site to repair cannot be its own source`;
  if (!routes.reaches(from, target, "calls")) {
    return `--from ${from}: no link carries calls from ${from} to ${target}, so ${from} cannot feed ${target}`;
  }
  return undefined;
}

/**
 * The topic an event is re-published into at the target: `<origin>.<topic>`, where the bridges put it,
 * or the local topic when the target is the origin (a site never holds a topic prefixed with itself).
 */
export function repairTopic(origin: string, target: string, topic = CALLS_TOPIC): string {
  return origin === target ? topic : remoteTopic(origin, topic);
}

export function planCallRepairs(input: CallRepairInput): CallRepairPlan {
  const { target, bySite, routes } = input;
  const atTarget = bySite.get(target) ?? new Map<string, CallSummary>();
  const others = [...bySite].filter(([site]) => site !== target);
  const ids = new Set<string>(atTarget.keys());
  for (const [, calls] of others) for (const id of calls.keys()) ids.add(id);

  const actions: CallAction[] = [];
  let keptOut = 0;
  for (const callId of [...ids].sort()) {
    const holders = others.flatMap(([site, calls]) => {
      const row = calls.get(callId);
      return row === undefined ? [] : [{ site, row }];
    });
    const own = atTarget.get(callId);
    const reference = holders.find((h) => h.site === h.row.originSite)?.row ?? holders[0]?.row ?? own!;
    const route = routes.routeTo(
      target,
      reference.originSite,
      "calls",
      reference.tenantId,
      reference.groupId,
    );
    if (route === undefined) {
      if (own !== undefined) {
        actions.push({ kind: "leave", callId, cause: "unexpected", detail: "the filters keep it out" });
      } else keptOut++;
      continue;
    }
    const cause = repairCause(own, reference, holders, input);
    if (cause === undefined) continue;
    if (typeof cause !== "string") {
      actions.push({ kind: "leave", callId, ...cause });
      continue;
    }
    const audioHolders = holders.filter(
      (h) => h.row.audioSha256 === reference.audioSha256 && h.row.audioState === "present",
    );
    if (reference.audioSha256 !== null && audioHolders.length === 0) {
      if (holders.some((h) => h.row.audioState === "pending")) {
        actions.push({ kind: "leave", callId, cause: "audio-pending", detail: "no site has its audio yet" });
      } else if (input.deadLettered.has(callId)) {
        actions.push({
          kind: "leave",
          callId,
          cause: "dead-lettered-before",
          detail: "its audio is held nowhere",
        });
      } else {
        actions.push({
          kind: "dead-letter",
          callId,
          origin: reference.originSite,
          tenantId: reference.tenantId,
          sha256: reference.audioSha256,
        });
      }
      continue;
    }
    const source = pickSource(holders, reference, input.from);
    if (source === undefined) {
      actions.push({
        kind: "leave",
        callId,
        cause: "not-at-source",
        detail: `${input.from} does not hold it`,
      });
      continue;
    }
    actions.push({
      kind: "republish",
      callId,
      cause,
      source,
      origin: reference.originSite,
      topic: repairTopic(reference.originSite, target),
      path: route,
      tenantId: reference.tenantId,
      groupId: reference.groupId,
    });
  }
  return { actions, keptOut };
}

type Holder = { site: string; row: CallSummary };

/** Why the target needs the call again, what to leave to the pipeline, or undefined when it is fine. */
function repairCause(
  own: CallSummary | undefined,
  reference: CallSummary,
  holders: readonly Holder[],
  input: CallRepairInput,
):
  | "missing"
  | "audio-failed"
  | { cause: "in-flight" | "audio-pending" | "audio-mismatch"; detail: string }
  | undefined {
  if (own === undefined) {
    const newest = Math.max(...holders.map((h) => h.row.firstSeenAt.getTime()));
    if (input.now.getTime() - newest < input.inFlightGraceMs) {
      return { cause: "in-flight", detail: "recorded recently: left to the bridges" };
    }
    return "missing";
  }
  if (own.audioSha256 !== reference.audioSha256) {
    return {
      cause: "audio-mismatch",
      detail: `audio sha256 ${own.audioSha256} here, ${reference.audioSha256} at the origin`,
    };
  }
  if (own.audioState === "failed") return "audio-failed";
  if (own.audioState === "pending") return { cause: "audio-pending", detail: "the target is copying it" };
  return undefined;
}

/** The origin's row first (the event as it was published), then a holder of the audio, then any. */
function pickSource(
  holders: readonly Holder[],
  reference: CallSummary,
  from: string | undefined,
): string | undefined {
  const candidates = holders.filter((h) => from === undefined || h.site === from);
  const rank = (h: Holder) =>
    (h.site === reference.originSite ? 0 : 2) + (h.row.audioState === "present" ? 0 : 1);
  return [...candidates].sort((a, b) => rank(a) - rank(b) || (a.site < b.site ? -1 : 1))[0]?.site;
}

/** A user event to publish into the target, as the bridges would have delivered it. */
export interface UserRedelivery {
  event: UserChanged;
  topic: string;
  path: string[];
}

export interface UserRepairInput {
  target: string;
  from?: string;
  /** Per site (the target included), the merge state of each user in the buckets that differ. */
  statesBySite: ReadonlyMap<string, ReadonlyMap<string, UserState>>;
  routes: Routes;
}

export interface UserRepairPlan {
  /** Per user, the writes the target lacks: re-emitted with their own ids, clocks and versions. */
  users: Array<{ userId: string; redeliveries: UserRedelivery[] }>;
  /** Writes the target lacks that the filters keep out of it: never published there. */
  keptOut: number;
}

/**
 * For each user, the writes that other sites keep and the target lacks. Applying them at the target is a
 * redelivery (the merge ignores what it holds, and newer edits dominate older ones), so the target ends
 * with the union of the states under every policy, and a second run finds nothing to send.
 */
export function planUserRepairs(input: UserRepairInput): UserRepairPlan {
  const { target, statesBySite, routes } = input;
  const atTarget = statesBySite.get(target) ?? new Map<string, UserState>();
  const holders = [...statesBySite]
    .filter(([site]) => site !== target && (input.from === undefined || site === input.from))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const userIds = new Set<string>();
  for (const [, states] of holders) for (const id of states.keys()) userIds.add(id);

  const users: UserRepairPlan["users"] = [];
  let keptOut = 0;
  for (const userId of [...userIds].sort()) {
    let state = atTarget.get(userId) ?? emptyUserState(userId);
    const sent: UserRedelivery[] = [];
    for (const [, states] of holders) {
      const holderState = states.get(userId);
      if (holderState === undefined) continue;
      const events = eventsOfState(holderState);
      const paths = new Map<string, string[]>();
      for (const e of events) {
        const path = routes.routeTo(target, e.originSite, "users", e.tenantId, e.groupId);
        if (path !== undefined) paths.set(e.eventId, path);
      }
      keptOut += redeliveries(
        events.filter((e) => !paths.has(e.eventId)),
        state,
      ).length;
      for (const event of redeliveries(
        events.filter((e) => paths.has(e.eventId)),
        state,
      )) {
        const topic = repairTopic(event.originSite, target, USERS_TOPIC);
        sent.push({ event, path: paths.get(event.eventId)!, topic });
        state = applyUserChanged(state, event);
      }
    }
    if (sent.length > 0) users.push({ userId, redeliveries: sent });
  }
  return { users, keptOut };
}
