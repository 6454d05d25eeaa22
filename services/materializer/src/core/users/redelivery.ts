/**
 * Anti-entropy for users (`tandem repair`): a site's merge state is turned back into the events that
 * produced what it keeps, each with its original event id, clock, origin and version, so that applying
 * them elsewhere is a redelivery: a site that already holds a write ignores it, a newer edit dominates
 * it, and the receiving site ends with the union of both states under every policy.
 */
import type { UserChanged, UserFieldName, UserFields } from "@tandem/events";
import { pickWinner } from "./policy";
import type { Sibling } from "./register";
import { applyUserChanged, REGISTER_NAMES, type RegisterName, type UserState } from "./state";
import { serializeUserState } from "./codec";
import { compareHlc } from "./versions";

const NO_FIELDS: UserFields = { name: null, email: null, extensions: null, role: null, active: null };

/**
 * One event per write that the state keeps in any register. A write survives only in the registers that
 * no newer write replaced, so its event carries those fields only; the fields it lost are carried by the
 * events that replaced them. Its version is its base: the origin's entry already equals its clock.
 */
export function eventsOfState(state: UserState): UserChanged[] {
  const writes = new Map<string, { stamp: Sibling<unknown>; values: Map<RegisterName, unknown> }>();
  for (const register of REGISTER_NAMES) {
    for (const sibling of state.registers[register] as readonly Sibling<unknown>[]) {
      const write = writes.get(sibling.eventId) ?? { stamp: sibling, values: new Map() };
      write.values.set(register, sibling.value);
      writes.set(sibling.eventId, write);
    }
  }
  const fallbackIdentity = pickWinner(state.identity, { kind: "lww" })?.value;
  return [...writes.values()]
    .sort((a, b) => compareStamps(a.stamp, b.stamp))
    .map(({ stamp, values }) => {
      const identity = state.identity.find((s) => s.eventId === stamp.eventId)?.value ?? fallbackIdentity;
      if (identity === undefined) throw new Error(`user ${state.userId} has writes but no identity`);
      const deleting = values.get("deleted") === true;
      const changedFields = [...values.keys()].filter((r): r is UserFieldName => r !== "deleted");
      return {
        eventId: stamp.eventId,
        userId: state.userId,
        tenantId: identity.tenantId,
        groupId: identity.groupId,
        operation: deleting ? "DELETE" : "UPSERT",
        changedFields: deleting ? [] : changedFields,
        fields: deleting
          ? { ...NO_FIELDS }
          : { ...NO_FIELDS, ...Object.fromEntries(changedFields.map((f) => [f, values.get(f)])) },
        hlc: stamp.hlc,
        baseVersion: stamp.version,
        originSite: stamp.originSite,
      } satisfies UserChanged;
    });
}

/** Those of `events` (from `eventsOfState`) that would change `target`'s state: what the target lacks. */
export function redeliveries(events: readonly UserChanged[], target: UserState): UserChanged[] {
  const lacking: UserChanged[] = [];
  let state = target;
  let text = serializeUserState(state);
  for (const event of events) {
    const next = applyUserChanged(state, event);
    const nextText = serializeUserState(next);
    if (nextText === text) continue;
    lacking.push(event);
    state = next;
    text = nextText;
  }
  return lacking;
}

function compareStamps(a: Sibling<unknown>, b: Sibling<unknown>): number {
  return compareHlc(a.hlc, b.hlc) || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}
