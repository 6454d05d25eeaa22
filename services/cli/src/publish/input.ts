import fs from "node:fs";
import { PermanentError } from "@tandem/runtime";
import { ValidationError, type CallCompleted, type UserChanged } from "@tandem/events";
import {
  callEventFor,
  userEventFor,
  type AudioDescription,
  type CallMetadata,
  type UserEdit,
} from "@tandem/recorder";
import { UsageError } from "../errors";

/** What `tandem publish call` sends: the call's fields, and its audio's description. */
export interface CallInput {
  call: CallMetadata;
  format: AudioDescription;
  /** The event as it will be published, but for the audio's size and sha256. */
  planned: CallCompleted;
}

const USER_KEYS = ["userId", "tenantId", "groupId", "operation", "changes", "baseVersion", "eventId"];

/** A JSON object from a file; an unreadable file or other JSON is a usage error naming the file. */
export function readJsonObject(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`${file}: cannot read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file}: not JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed)) throw new UsageError(`${file}: must be a JSON object`);
  return parsed;
}

/**
 * A call's metadata file: the fields of CallCompleted without `eventId` and `originSite`, with `audio`
 * holding contentType, codec, channels and sampleRateHz. Checked by the publisher's own rules.
 */
export function parseCallMeta(file: string, meta: Record<string, unknown>, site: string): CallInput {
  const { audio, ...call } = meta;
  if (!isObject(audio)) throw new UsageError(`${file}: audio: must be an object (contentType, codec, ...)`);
  const format = audio as unknown as AudioDescription;
  const typed = call as unknown as CallMetadata;
  return { call: typed, format, planned: checked(file, () => callEventFor(site, typed, format)) };
}

/**
 * A user edit file: userId, tenantId, groupId, operation, and for an UPSERT `changes`; optionally
 * `baseVersion` and `eventId`. Checked by the publisher's own rules (with the clock at 0).
 */
export function parseUserMeta(file: string, meta: Record<string, unknown>, site: string): UserEdit {
  const unknown = Object.keys(meta).filter((key) => !USER_KEYS.includes(key));
  if (unknown.length > 0) {
    throw new UsageError(`${file}: ${unknown.join(", ")}: unknown field (fields: ${USER_KEYS.join(", ")})`);
  }
  if (meta.changes !== undefined && !isObject(meta.changes)) {
    throw new UsageError(`${file}: changes: must be an object of the fields to set`);
  }
  const edit = meta as unknown as UserEdit;
  // The event's `fields` are the file's `changes`.
  checked<UserChanged>(
    file,
    () => userEventFor(site, edit, edit.baseVersion ?? {}, { wallTimeMs: 0, logical: 0 }),
    (field) => field.replace(/^fields\b/, "changes"),
  );
  return edit;
}

/** The library's verdict as one line naming the fields, or undefined for an error that is not one. */
export function validationProblem(error: unknown, nameOf = (field: string) => field): string | undefined {
  if (error instanceof ValidationError) {
    return error.issues.map((i) => `${nameOf(i.path) || "(top level)"}: ${i.problem}`).join("; ");
  }
  if (error instanceof PermanentError) return error.message;
  return undefined;
}

/** The library's verdict as one line naming the file and the fields. */
function checked<T>(file: string, check: () => T, nameOf = (field: string) => field): T {
  try {
    return check();
  } catch (error) {
    const problem = validationProblem(error, nameOf);
    if (problem !== undefined) throw new UsageError(`${file}: ${problem}`);
    throw error;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
