/**
 * An administrator's decision on a conflict, as an ordinary UserChanged event.
 * Its base version merges every applied write, so it dominates all siblings of the register it writes
 * and clears that conflict at every site that applies it, whatever the order.
 */
import type { Hlc, UserChanged, UserFields } from "@tandem/events";
import { pickWinner } from "./policy";
import type { RegisterName, RegisterValues, UserState } from "./state";
import { compareHlc, mergeVersions } from "./versions";

/** The value to keep for one register; it may be one of the siblings' values or a new one. */
export type ResolutionChoice = { [K in RegisterName]: { field: K; value: RegisterValues[K] } }[RegisterName];

/** Identity of the resolution event; `hlc` comes from the resolving site's clock after it saw the state. */
export interface ResolutionStamp {
  eventId: string;
  hlc: Hlc;
  originSite: string;
}

function noFields(): UserFields {
  return { name: null, email: null, extensions: null, role: null, active: null };
}

export function resolutionFor(
  state: UserState,
  choice: ResolutionChoice,
  stamp: ResolutionStamp,
): UserChanged {
  const identity = pickWinner(state.identity, { kind: "lww" });
  if (identity === undefined) throw new Error(`user ${state.userId} has no state to resolve`);
  const baseVersion = mergeVersions(state.identity.map((sibling) => sibling.version));
  const seen = baseVersion[stamp.originSite];
  if (seen !== undefined && compareHlc(stamp.hlc, seen) <= 0) {
    // The event's version would not rise above what it resolves, so it could not dominate it.
    throw new RangeError(
      `resolution clock must be later than ${stamp.originSite}'s entry in the user's version`,
    );
  }
  const common = {
    eventId: stamp.eventId,
    userId: state.userId,
    tenantId: identity.value.tenantId,
    groupId: identity.value.groupId,
    hlc: stamp.hlc,
    baseVersion,
    originSite: stamp.originSite,
  };
  if (choice.field === "deleted") {
    return {
      ...common,
      operation: choice.value ? "DELETE" : "UPSERT",
      changedFields: [],
      fields: noFields(),
    };
  }
  // Every upsert also writes deleted=false; with a dominating base it would silently revive the user.
  if (state.registers.deleted.some((sibling) => sibling.value)) {
    throw new Error(
      `user ${state.userId} is deleted or its deletion is in conflict: resolve "deleted" first`,
    );
  }
  return {
    ...common,
    operation: "UPSERT",
    changedFields: [choice.field],
    fields: { ...noFields(), [choice.field]: choice.value },
  };
}
