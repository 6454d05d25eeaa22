import { z } from "zod";
import { PermanentError } from "@tandem/runtime";
import { SITE_ID_PATTERN, UUID_PATTERN } from "./ids";
import type { CallCompleted, UserChanged } from "./types";

/** One problem found in an event: `path` names the field, e.g. `audio.sizeBytes` or `participantUserIds.2`. */
export interface ValidationIssue {
  path: string;
  problem: string;
}

export class ValidationError extends PermanentError {
  readonly eventType: "CallCompleted" | "UserChanged";
  readonly issues: ValidationIssue[];

  constructor(eventType: "CallCompleted" | "UserChanged", issues: ValidationIssue[]) {
    super(`invalid ${eventType}: ${issues.map((i) => `${i.path || "(event)"}: ${i.problem}`).join("; ")}`);
    this.name = "ValidationError";
    this.eventType = eventType;
    this.issues = issues;
  }
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; error: ValidationError };

const INT32_MAX = 2 ** 31 - 1;

const uuid = z.string().regex(UUID_PATTERN, "must be a canonical lowercase UUID");
const siteId = z.string().regex(SITE_ID_PATTERN, `must be a site id matching ${SITE_ID_PATTERN.source}`);
const text = z.string().min(1, "must not be empty");
const epochMs = z.int("must be an integer number of ms").min(0, "must not be negative");
const size = z.int("must be an integer").min(0, "must not be negative");
const positiveInt32 = z
  .int("must be an integer")
  .min(1, "must be positive")
  .max(INT32_MAX, "must fit an Avro int");

/**
 * The keys object stores accept (see assertSafeKey in @tandem/object-store): relative, every segment
 * starting with a letter or digit. A key refused here would only fail later, at every copy attempt.
 */
const SAFE_OBJECT_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

const objectKey = text.regex(
  SAFE_OBJECT_KEY,
  "must be a relative key of segments of letters, digits, '.', '_' or '-' each starting with a letter or digit (no '..', no absolute path)",
);

const party = z.strictObject({
  number: text,
  name: z.string().nullable(),
});

const audioRef = z.strictObject({
  objectKey,
  sizeBytes: size,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex characters"),
  contentType: z
    .string()
    .regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i, "must be a MIME type such as audio/wav"),
  codec: text,
  channels: positiveInt32,
  sampleRateHz: positiveInt32,
});

const callCompleted = z
  .strictObject({
    eventId: uuid,
    callId: uuid,
    tenantId: uuid,
    groupId: uuid,
    participantUserIds: z
      .array(uuid)
      .refine((ids) => new Set(ids).size === ids.length, "must not repeat a user"),
    originSite: siteId,
    recorderId: text,
    direction: z.enum(["INBOUND", "OUTBOUND", "INTERNAL"]),
    caller: party,
    callee: party,
    startedAtMs: epochMs,
    endedAtMs: epochMs,
    durationMs: size,
    audio: audioRef.nullable(),
    attributes: z.record(text, z.string()),
  })
  .superRefine((call, ctx) => {
    if (call.endedAtMs < call.startedAtMs) {
      ctx.addIssue({ code: "custom", path: ["endedAtMs"], message: "must not be before startedAtMs" });
    } else if (call.durationMs !== call.endedAtMs - call.startedAtMs) {
      ctx.addIssue({
        code: "custom",
        path: ["durationMs"],
        message: `must equal endedAtMs - startedAtMs (${call.endedAtMs - call.startedAtMs})`,
      });
    }
  }) satisfies z.ZodType<CallCompleted>;

const userFieldName = z.enum(["name", "email", "extensions", "role", "active"]);

const hlc = z.strictObject({
  wallTimeMs: epochMs,
  logical: z.int("must be an integer").min(0, "must not be negative").max(INT32_MAX, "must fit an Avro int"),
});

const userChanged = z
  .strictObject({
    eventId: uuid,
    userId: uuid,
    tenantId: uuid,
    groupId: uuid,
    operation: z.enum(["UPSERT", "DELETE"]),
    changedFields: z
      .array(userFieldName)
      .refine((f) => new Set(f).size === f.length, "must not repeat a field"),
    fields: z.strictObject({
      name: text.nullable(),
      email: z.email("must be an e-mail address").nullable(),
      extensions: z.array(text).nullable(),
      role: text.nullable(),
      active: z.boolean().nullable(),
    }),
    hlc,
    baseVersion: z.record(siteId, hlc),
    originSite: siteId,
  })
  .superRefine((user, ctx) => {
    if (user.operation === "UPSERT" && user.changedFields.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["changedFields"],
        message: "must name at least one field for an UPSERT",
      });
    }
    if (user.operation === "DELETE" && user.changedFields.length > 0) {
      ctx.addIssue({ code: "custom", path: ["changedFields"], message: "must be empty for a DELETE" });
    }
  }) satisfies z.ZodType<UserChanged>;

function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    problem: issue.code === "invalid_type" && issue.input === undefined ? "is missing" : issue.message,
  }));
}

/** Checks a CallCompleted before it is published (and after it is decoded). */
export function validateCallCompleted(input: unknown): ValidationResult<CallCompleted> {
  const result = callCompleted.safeParse(input, { reportInput: true });
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, error: new ValidationError("CallCompleted", toIssues(result.error)) };
}

/** Checks a UserChanged before it is published (and after it is decoded). */
export function validateUserChanged(input: unknown): ValidationResult<UserChanged> {
  const result = userChanged.safeParse(input, { reportInput: true });
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, error: new ValidationError("UserChanged", toIssues(result.error)) };
}
