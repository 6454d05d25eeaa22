/**
 * Per-user merge state: one multi-value register per editable field, one for deletion,
 * and one written by every event that decides tenant, group and the user's overall version.
 */
import type { UserChanged, UserFieldName, UserFields } from "@tandem/events";
import { applyWrite } from "./register";
import type { Register, Sibling } from "./register";
import { eventVersion } from "./versions";

export const USER_FIELD_NAMES: readonly UserFieldName[] = ["name", "email", "extensions", "role", "active"];

/** `deleted` first: it decides whether the field values are shown at all. */
export const REGISTER_NAMES: readonly RegisterName[] = ["deleted", ...USER_FIELD_NAMES];

export type RegisterName = "deleted" | UserFieldName;

export interface RegisterValues extends UserFields {
  deleted: boolean;
}

export interface UserIdentity {
  readonly tenantId: string;
  readonly groupId: string;
}

export type UserRegisters = { readonly [K in RegisterName]: Register<RegisterValues[K]> };

export interface UserState {
  readonly userId: string;
  /** The maximal events of all applied ones: their versions merge to the user's version. */
  readonly identity: Register<UserIdentity>;
  readonly registers: UserRegisters;
}

export function emptyUserState(userId: string): UserState {
  return {
    userId,
    identity: [],
    registers: { deleted: [], name: [], email: [], extensions: [], role: [], active: [] },
  };
}

/** Pure: returns a new state (sharing untouched registers) and leaves `state` and `event` as they were. */
export function applyUserChanged(state: UserState, event: UserChanged): UserState {
  if (event.userId !== state.userId) {
    throw new Error(`event ${event.eventId} is for user ${event.userId}, not ${state.userId}`);
  }
  // Copies: the state must not share objects with the caller's event.
  const stamp: Stamp = structuredClone({
    version: eventVersion(event),
    hlc: event.hlc,
    originSite: event.originSite,
    eventId: event.eventId,
  });
  const registers: MutableRegisters = { ...state.registers };
  write(registers, "deleted", event.operation === "DELETE", stamp);
  if (event.operation === "UPSERT") {
    for (const field of new Set(event.changedFields)) {
      if (!USER_FIELD_NAMES.includes(field))
        throw new Error(`event ${event.eventId} changes unknown field ${field}`);
      write(registers, field, structuredClone(event.fields[field]), stamp);
    }
  }
  return {
    userId: state.userId,
    identity: applyWrite(state.identity, {
      value: { tenantId: event.tenantId, groupId: event.groupId },
      ...stamp,
    }),
    registers,
  };
}

type Stamp = Omit<Sibling<never>, "value">;

type MutableRegisters = { [K in RegisterName]: Register<RegisterValues[K]> };

function write<K extends RegisterName>(
  registers: { [P in K]: Register<RegisterValues[P]> },
  name: K,
  value: RegisterValues[K],
  stamp: Stamp,
): void {
  const current: Register<RegisterValues[K]> = registers[name];
  registers[name] = applyWrite(current, { value, ...stamp });
}
