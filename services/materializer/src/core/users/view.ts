/** What a site shows for a user, and which concurrent writes it had to choose between. */
import type { UserFields, VersionVector } from "@tandem/events";
import { pickWinner } from "./policy";
import type { MergePolicy } from "./policy";
import type { Register, Sibling } from "./register";
import { REGISTER_NAMES, USER_FIELD_NAMES } from "./state";
import type { RegisterName, RegisterValues, UserState } from "./state";
import { mergeVersions } from "./versions";

export interface VisibleUser {
  userId: string;
  tenantId: string;
  groupId: string;
  /** A deleted user is a tombstone: kept so that stale edits cannot bring it back, but hidden. */
  deleted: boolean;
  fields: UserFields;
  /** Merge of the versions of every applied event. */
  version: VersionVector;
}

export type ConflictStatus = "open" | "resolved-by-policy";

export type UserConflict = {
  [K in RegisterName]: {
    userId: string;
    field: K;
    /** Every concurrent write, in event id order. */
    siblings: readonly Sibling<RegisterValues[K]>[];
    /** The visible one: final under lww and priority, provisional under manual. */
    winner: Sibling<RegisterValues[K]>;
    status: ConflictStatus;
  };
}[RegisterName];

/** Undefined until an event for the user has been applied. */
export function visibleUser(state: UserState, policy: MergePolicy): VisibleUser | undefined {
  const identity = pickWinner(state.identity, { kind: "lww" });
  if (identity === undefined) return undefined;
  const fields = {} as { [K in keyof UserFields]: UserFields[K] };
  for (const field of USER_FIELD_NAMES) {
    setVisible(fields, field, state, policy);
  }
  return {
    userId: state.userId,
    tenantId: identity.value.tenantId,
    groupId: identity.value.groupId,
    deleted: isDeleted(state, policy),
    fields,
    version: mergeVersions(state.identity.map((sibling) => sibling.version)),
  };
}

/**
 * Registers whose siblings hold different values, in register order.
 * A tombstone's field conflicts are left out while it stays deleted: its fields are hidden and an
 * administrator cannot resolve them without reviving it; they show again if it is revived.
 */
export function conflictsOf(state: UserState, policy: MergePolicy): UserConflict[] {
  const names = isDeleted(state, policy) ? (["deleted"] as const) : REGISTER_NAMES;
  const conflicts: UserConflict[] = [];
  for (const name of names) {
    const conflict = conflictIn(state, name, policy);
    if (conflict !== undefined) conflicts.push(conflict);
  }
  return conflicts;
}

export function isDeleted(state: UserState, policy: MergePolicy): boolean {
  return pickWinner(state.registers.deleted, policy)?.value ?? false;
}

function conflictIn<K extends RegisterName>(
  state: UserState,
  name: K,
  policy: MergePolicy,
): UserConflict | undefined {
  const siblings: Register<RegisterValues[K]> = state.registers[name];
  if (new Set(siblings.map((sibling) => JSON.stringify(sibling.value))).size < 2) return undefined;
  const winner = pickWinner(siblings, policy);
  if (winner === undefined) return undefined;
  return {
    userId: state.userId,
    field: name,
    siblings,
    winner,
    status: policy.kind === "manual" ? "open" : "resolved-by-policy",
  } as UserConflict;
}

function setVisible<K extends keyof UserFields>(
  fields: { [F in keyof UserFields]: UserFields[F] },
  field: K,
  state: UserState,
  policy: MergePolicy,
): void {
  const register: Register<UserFields[K]> = state.registers[field];
  const value = pickWinner(register, policy)?.value ?? null;
  fields[field] = (Array.isArray(value) ? [...value] : value) as UserFields[K];
}
