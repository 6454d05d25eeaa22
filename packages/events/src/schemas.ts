import { readFileSync } from "node:fs";

/** An Avro record schema as read from `schemas/*.avsc`. */
export interface AvroRecordSchema {
  type: "record";
  name: string;
  namespace?: string;
  doc?: string;
  fields: Array<{ name: string; type: unknown; doc?: string; default?: unknown }>;
}

export type EventKind = "CallCompleted" | "UserChanged";

export const CALLS_TOPIC = "calls.completed";
export const USERS_TOPIC = "users.changed";
export const HEARTBEATS_TOPIC = "tandem.heartbeats";
export const DLQ_TOPIC = "tandem.dlq";
/** Ranges of records that retention deleted before a consumer read them, and their acknowledgements. */
export const GAPS_TOPIC = "tandem.gaps";

function loadSchema(file: string): AvroRecordSchema {
  const url = new URL(`../../../schemas/${file}`, import.meta.url);
  const schema = JSON.parse(readFileSync(url, "utf8")) as AvroRecordSchema;
  if (schema.type !== "record" || !Array.isArray(schema.fields)) {
    throw new Error(`${url.pathname} is not an Avro record schema`);
  }
  return schema;
}

export const callCompletedSchema: AvroRecordSchema = loadSchema("CallCompleted.avsc");
export const userChangedSchema: AvroRecordSchema = loadSchema("UserChanged.avsc");

export const eventSchemas: Readonly<Record<EventKind, AvroRecordSchema>> = {
  CallCompleted: callCompletedSchema,
  UserChanged: userChangedSchema,
};

/** Confluent TopicNameStrategy: the value schema of `topic` lives under `<topic>-value`. */
export function subjectFor(topic: string): string {
  return `${topic}-value`;
}

const SITE_PREFIX = "[a-z][a-z0-9-]{1,30}\\.";
const CALLS_PATTERN = new RegExp(`^(?:${SITE_PREFIX})?calls\\.completed$`);
const USERS_PATTERN = new RegExp(`^(?:${SITE_PREFIX})?users\\.changed$`);

/**
 * The event carried by a topic: the local topics and their remote copies `<origin>.<topic>`.
 * Undefined for topics without an event schema (heartbeats, DLQ, anything else).
 */
export function eventKindForTopic(topic: string): EventKind | undefined {
  if (CALLS_PATTERN.test(topic)) return "CallCompleted";
  if (USERS_PATTERN.test(topic)) return "UserChanged";
  return undefined;
}
