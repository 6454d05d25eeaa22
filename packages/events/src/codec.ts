import avro from "avsc";
import type { Type } from "avsc";
import { COMPATIBILITY, SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { PermanentError, retryWithBackoff, type BackoffPolicy } from "@tandem/runtime";
import { eventKindForTopic, eventSchemas, subjectFor } from "./schemas";
import type { AvroRecordSchema, EventKind } from "./schemas";
import type { CallCompleted, TandemEvent, UserChanged } from "./types";
import { validateCallCompleted, validateUserChanged } from "./validation";
import type { ValidationError, ValidationIssue, ValidationResult } from "./validation";
import { ensureBackwardCompatibility, type RegistryEndpoint } from "./subject-compatibility";
import { oversizedProblem, parseWireFormat } from "./wire-format";

/** Where a record was read: named in every decode error so the record can be found again. */
export interface RecordCoordinates {
  topic: string;
  partition: number;
  offset: string;
}

export type DecodeErrorKind = "no-magic-byte" | "unknown-schema" | "truncated" | "invalid-value";

/** A record value that cannot become an event. Permanent: retrying gives the same error (send it to the DLQ). */
export class DecodeError extends PermanentError {
  readonly kind: DecodeErrorKind;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly schemaId: number | undefined;
  /** For `invalid-value` from event validation: the fields at fault. */
  readonly issues: ValidationIssue[];

  constructor(
    kind: DecodeErrorKind,
    at: RecordCoordinates,
    problem: string,
    details: { schemaId?: number; issues?: ValidationIssue[]; cause?: unknown } = {},
  ) {
    super(`${kind} at ${at.topic}/${at.partition}@${at.offset}: ${problem}`, { cause: details.cause });
    this.name = "DecodeError";
    this.kind = kind;
    this.topic = at.topic;
    this.partition = at.partition;
    this.offset = at.offset;
    this.schemaId = details.schemaId;
    this.issues = details.issues ?? [];
  }
}

/** The registry could not be reached or answered with a server error. Transient: retry later. */
export class RegistryError extends Error {
  readonly status: number | undefined;

  constructor(action: string, cause: unknown) {
    const status = statusOf(cause);
    super(
      `schema registry ${action} failed${status === undefined ? "" : ` (HTTP ${status})`}: ${messageOf(cause)}`,
      {
        cause,
      },
    );
    this.name = "RegistryError";
    this.status = status;
  }
}

export type SchemaRegistrationErrorKind = "incompatible" | "invalid-schema" | "compatibility-mismatch";

/** The registry refused a schema. Permanent until the schema or the subject's configuration changes. */
export class SchemaRegistrationError extends PermanentError {
  constructor(
    readonly kind: SchemaRegistrationErrorKind,
    readonly subject: string,
    problem: string,
    cause: unknown,
  ) {
    super(`cannot register the schema under subject ${subject}: ${problem}`, { cause });
    this.name = "SchemaRegistrationError";
  }
}

/** The topic carries no Tandem event, so it has no value schema. */
export class UnsupportedTopicError extends PermanentError {
  constructor(readonly topic: string) {
    super(
      `topic ${topic} carries no Tandem event (expected [<site>.]calls.completed or [<site>.]users.changed)`,
    );
    this.name = "UnsupportedTopicError";
  }
}

export interface EventCodecOptions {
  /** Base URL of a Confluent-compatible registry, e.g. `http://127.0.0.1:29002/apis/ccompat/v7`. */
  host: string;
  clientId?: string;
  /** Basic authentication at the registry, from configuration. */
  auth?: { username: string; password: string };
  /**
   * Schemas to register and write with instead of `schemas/*.avsc`: another version of a record (same
   * name), to roll out a schema change ahead of the code. Reading always uses `schemas/*.avsc`, the
   * shape of `types.ts`.
   */
  writerSchemas?: Partial<Record<EventKind, AvroRecordSchema>>;
}

type Resolver = ReturnType<Type["createResolver"]>;

interface Reader {
  kind: EventKind;
  resolver: Resolver;
}

/**
 * Encodes and decodes Tandem events in the Confluent wire format against one schema registry.
 *
 * Decoding resolves the writer's schema, found by id, into `schemas/*.avsc`, so a record written with an
 * older or newer compatible schema comes out in the `types.ts` shape.
 */
export class EventCodec {
  private readonly registry: SchemaRegistry;
  private readonly endpoint: RegistryEndpoint;
  private readonly writerSchemas: Record<EventKind, AvroRecordSchema>;
  private readonly readerTypes: Record<EventKind, Type>;
  private readonly kindsByName: Map<string, EventKind>;
  private readonly schemaIds = new Map<string, Promise<number>>();
  private readonly readers = new Map<number, Promise<Reader | string>>();

  constructor(options: EventCodecOptions) {
    this.registry = new SchemaRegistry({
      host: options.host,
      clientId: options.clientId ?? "tandem",
      ...(options.auth ? { auth: options.auth } : {}),
    });
    this.endpoint = { url: options.host, auth: options.auth };
    this.writerSchemas = { ...eventSchemas, ...options.writerSchemas };
    this.readerTypes = {
      CallCompleted: avro.Type.forSchema(eventSchemas.CallCompleted as avro.Schema),
      UserChanged: avro.Type.forSchema(eventSchemas.UserChanged as avro.Schema),
    };
    this.kindsByName = new Map(
      (Object.keys(this.readerTypes) as EventKind[]).map((kind) => [
        this.readerTypes[kind].name ?? kind,
        kind,
      ]),
    );
  }

  /**
   * Registers the topic's value schema under `<topic>-value` (BACKWARD compatibility is set on the
   * subject before its first registration) and returns its id. Ids are cached; a failed attempt is not.
   */
  register(topic: string): Promise<number> {
    const subject = subjectFor(topic);
    const cached = this.schemaIds.get(subject);
    if (cached !== undefined) return cached;
    const registering = this.registerSubject(subject, this.kindOfTopic(topic));
    this.schemaIds.set(subject, registering);
    registering.catch(() => this.schemaIds.delete(subject));
    return registering;
  }

  /** Validates the event, registers the topic's schema if needed and encodes the event. */
  async encode(topic: string, event: CallCompleted | UserChanged): Promise<Buffer> {
    const kind = this.kindOfTopic(topic);
    const checked: ValidationResult<CallCompleted | UserChanged> =
      kind === "CallCompleted" ? validateCallCompleted(event) : validateUserChanged(event);
    if (!checked.ok) throw checked.error;
    const schemaId = await this.register(topic);
    const encoded = await this.registry.encode(schemaId, checked.value);
    const oversized = oversizedProblem(encoded);
    if (oversized !== undefined)
      throw new RangeError(`cannot publish ${checked.value.eventId}: ${oversized}`);
    return encoded;
  }

  /**
   * Decodes a record value into a validated event. Bad input gives a DecodeError; a registry that cannot
   * be reached gives a RegistryError (retry rather than dead-letter).
   */
  async decode(value: Buffer | null, at: RecordCoordinates): Promise<TandemEvent> {
    if (value === null || value.length === 0) {
      throw new DecodeError("truncated", at, "record has no value");
    }
    const wire = parseWireFormat(value);
    if (!wire.ok) {
      throw new DecodeError(wire.kind, at, wire.problem);
    }
    const { schemaId, body } = wire;
    const oversized = oversizedProblem(value);
    if (oversized !== undefined) throw new DecodeError("invalid-value", at, oversized, { schemaId });
    const reader = await this.readerFor(schemaId);
    if (typeof reader === "string") {
      throw new DecodeError("unknown-schema", at, reader, { schemaId });
    }
    // A record of the other kind would be applied as what it is, not as what its topic carries.
    const topicKind = eventKindForTopic(at.topic);
    if (topicKind !== undefined && topicKind !== reader.kind) {
      throw new DecodeError(
        "invalid-value",
        at,
        `schema id ${schemaId} is ${reader.kind}, but ${at.topic} carries ${topicKind}`,
        { schemaId },
      );
    }

    let decoded: unknown;
    try {
      decoded = toPlain(this.readerTypes[reader.kind].fromBuffer(body, reader.resolver));
    } catch (error) {
      const truncated = messageOf(error).includes("truncated");
      throw new DecodeError(truncated ? "truncated" : "invalid-value", at, `Avro body: ${messageOf(error)}`, {
        schemaId,
        cause: error,
      });
    }

    const invalid = (error: ValidationError) =>
      new DecodeError("invalid-value", at, error.message, { schemaId, issues: error.issues });
    if (reader.kind === "CallCompleted") {
      const checked = validateCallCompleted(decoded);
      if (!checked.ok) throw invalid(checked.error);
      return { kind: "CallCompleted", event: checked.value };
    }
    const checked = validateUserChanged(decoded);
    if (!checked.ok) throw invalid(checked.error);
    return { kind: "UserChanged", event: checked.value };
  }

  private kindOfTopic(topic: string): EventKind {
    const kind = eventKindForTopic(topic);
    if (kind === undefined) throw new UnsupportedTopicError(topic);
    return kind;
  }

  private async registerSubject(subject: string, kind: EventKind): Promise<number> {
    const attempt = async () => {
      await ensureBackwardCompatibility(this.endpoint, subject);
      return (
        await this.registry.register(this.writerSchemas[kind], {
          subject,
          compatibility: COMPATIBILITY.BACKWARD,
        })
      ).id;
    };
    // A client that registers a new subject while another sets its level can still meet the registry's
    // refusal (409) or read the level between the two; both settle within moments. A schema that is truly
    // incompatible, or a subject really set to another level, still fails.
    try {
      return await retryWithBackoff(attempt, {
        maxAttempts: 6,
        policy: SETTLING_BACKOFF,
        retryIf: (error) => refusedCompatibilitySetting(error) || compatibilityMismatch(error),
      });
    } catch (error) {
      throw registrationError(subject, error);
    }
  }

  /**
   * Reader for a writer schema id, or why there is none. Readers are cached (ids are immutable); refusals
   * and failures are not, so an id registered later, or a registry back from an outage, is read then.
   */
  private readerFor(schemaId: number): Promise<Reader | string> {
    const cached = this.readers.get(schemaId);
    if (cached !== undefined) return cached;
    const loading = this.loadReader(schemaId);
    this.readers.set(schemaId, loading);
    const forget = () => this.readers.delete(schemaId);
    loading.then((reader) => typeof reader === "string" && forget(), forget);
    return loading;
  }

  private async loadReader(schemaId: number): Promise<Reader | string> {
    let writer: unknown;
    try {
      writer = await this.registry.getSchema(schemaId);
    } catch (error) {
      if (statusOf(error) === 404) return `schema id ${schemaId} is not in the registry`;
      if (error instanceof Error && error.name.startsWith("ConfluentSchemaRegistry")) {
        return `schema id ${schemaId} cannot be used: ${error.message}`;
      }
      throw new RegistryError(`lookup of schema id ${schemaId}`, error);
    }
    if (!(writer instanceof avro.Type)) {
      return `schema id ${schemaId} is not an Avro schema`;
    }
    const kind = writer.name === undefined ? undefined : this.kindsByName.get(writer.name);
    if (kind === undefined) {
      return `schema id ${schemaId} is ${writer.name ?? "an unnamed type"}, not a Tandem event`;
    }
    try {
      return { kind, resolver: this.readerTypes[kind].createResolver(writer) };
    } catch (error) {
      return `schema id ${schemaId} cannot be read as ${kind}: ${messageOf(error)}`;
    }
  }
}

/** avsc decodes records as class instances; events are plain data (structured-clone and JSON friendly). */
function toPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toPlain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, toPlain(field)]));
  }
  return value;
}

const SETTLING_BACKOFF: BackoffPolicy = { initialMs: 50, maxMs: 800, multiplier: 2, jitter: 0.5 };

/** The registry refused to set the subject's compatibility level: another client set it first. */
function refusedCompatibilitySetting(error: unknown): boolean {
  return (
    statusOf(error) === 409 &&
    error !== null &&
    typeof error === "object" &&
    "url" in error &&
    typeof error.url === "string" &&
    error.url.includes("/config/")
  );
}

function compatibilityMismatch(error: unknown): error is Error {
  return error instanceof Error && error.name === "ConfluentSchemaRegistryCompatibilityError";
}

function registrationError(subject: string, error: unknown): Error {
  if (compatibilityMismatch(error)) {
    return new SchemaRegistrationError(
      "compatibility-mismatch",
      subject,
      `the subject exists with another compatibility level than BACKWARD (${error.message}); Tandem's ` +
        `subjects are BACKWARD: set it with PUT /config/${subject} {"compatibility":"BACKWARD"}`,
      error,
    );
  }
  const status = statusOf(error);
  if (status === 409) {
    return new SchemaRegistrationError(
      "incompatible",
      subject,
      `the schema is not BACKWARD compatible with the registered versions (${messageOf(error)})`,
      error,
    );
  }
  if (status === 422) {
    return new SchemaRegistrationError(
      "invalid-schema",
      subject,
      `the registry refused the schema (${messageOf(error)})`,
      error,
    );
  }
  return new RegistryError(`registration under ${subject}`, error);
}

// mappersmith reports network failures as status 400, so only specific statuses are taken as answers.
function statusOf(error: unknown): number | undefined {
  if (error !== null && typeof error === "object" && "status" in error && typeof error.status === "number") {
    return error.status;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
