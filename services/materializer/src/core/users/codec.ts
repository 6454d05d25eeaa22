/**
 * UserState to and from JSON (stored as jsonb). The text is canonical: object keys sorted and siblings in
 * event id order, so equal states give equal strings whatever order their events were applied in.
 */
import { z } from "zod";
import { applyWrite } from "./register";
import type { Register, Sibling } from "./register";
import type { UserState } from "./state";

const FORMAT = 1;

const hlcSchema = z.object({ wallTimeMs: z.number(), logical: z.number() });

function siblingsSchema<T extends z.ZodType>(value: T) {
  return z.array(
    z.object({
      value,
      version: z.record(z.string(), hlcSchema),
      hlc: hlcSchema,
      originSite: z.string(),
      eventId: z.string(),
    }),
  );
}

const nullableString = z.string().nullable();

const stateSchema = z.object({
  format: z.literal(FORMAT),
  userId: z.string(),
  identity: siblingsSchema(z.object({ tenantId: z.string(), groupId: z.string() })),
  registers: z.object({
    deleted: siblingsSchema(z.boolean()),
    name: siblingsSchema(nullableString),
    email: siblingsSchema(nullableString),
    extensions: siblingsSchema(z.array(z.string()).nullable()),
    role: siblingsSchema(nullableString),
    active: siblingsSchema(z.boolean().nullable()),
  }),
});

/** Siblings are already in event id order: every state is built by applyWrite or decodeUserState. */
export function serializeUserState(state: UserState): string {
  return canonicalJson({
    format: FORMAT,
    userId: state.userId,
    identity: state.identity,
    registers: state.registers,
  });
}

export function parseUserState(text: string): UserState {
  return decodeUserState(JSON.parse(text));
}

/** For a value already decoded from JSON, as pg returns jsonb columns. Throws when it is not a UserState. */
export function decodeUserState(value: unknown): UserState {
  const parsed = stateSchema.parse(value);
  const { registers } = parsed;
  return {
    userId: parsed.userId,
    identity: normalized(parsed.identity),
    registers: {
      deleted: normalized(registers.deleted),
      name: normalized(registers.name),
      email: normalized(registers.email),
      extensions: normalized(registers.extensions),
      role: normalized(registers.role),
      active: normalized(registers.active),
    },
  };
}

/** Re-applying the siblings drops duplicates and dominated ones and sorts them, whatever was stored. */
function normalized<T>(siblings: readonly Sibling<T>[]): Register<T> {
  return siblings.reduce<Register<T>>((register, sibling) => applyWrite(register, sibling), []);
}

/** JSON.stringify would keep insertion order, and JavaScript puts integer-like keys first. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
