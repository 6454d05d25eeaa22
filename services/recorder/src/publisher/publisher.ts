import type { Readable } from "node:stream";
import type { Producer } from "kafkajs";
import { v5 as uuidv5 } from "uuid";
import type { HybridLogicalClock } from "@tandem/events";
import {
  CALLS_TOPIC,
  USERS_TOPIC,
  audioObjectKey,
  buildHeaders,
  validateCallCompleted,
  validateUserChanged,
  type Hlc,
  type CallCompleted,
  type EventCodec,
  type UserChanged,
  type UserFieldName,
  type UserFields,
  type VersionVector,
} from "@tandem/events";
import type { ObjectStore } from "@tandem/object-store";

/** Namespace of the event ids derived from call ids: a call completes once, so its event id is fixed. */
const CALL_EVENT_NAMESPACE = "6f1f7a52-3c1e-4a55-9b43-0c8f1d2e5a10";

export type CallMetadata = Omit<CallCompleted, "eventId" | "audio" | "originSite">;

export interface AudioInput {
  body: Readable;
  contentType: string;
  codec: string;
  channels: number;
  sampleRateHz: number;
}

export interface UserEdit {
  userId: string;
  tenantId: string;
  groupId: string;
  operation: "UPSERT" | "DELETE";
  /** For an UPSERT, the fields to set; absent fields are left as they are. */
  changes?: Partial<UserFields>;
  /** The version the edit is based on; when absent it is read from `baseVersions`. */
  baseVersion?: VersionVector;
  eventId?: string;
}

/** Where the version of a user as the site knows it comes from (the site's materialized users). */
export type BaseVersionSource = (userId: string) => Promise<VersionVector>;

/** Stands for the key until the ids it is derived from are known to be valid. */
const PENDING_OBJECT_KEY = "pending";

const EMPTY_FIELDS: UserFields = { name: null, email: null, extensions: null, role: null, active: null };

/** The audio's description; its size and sha256 are measured while it is stored. */
export type AudioDescription = Omit<AudioInput, "body">;

/**
 * The event a call is published as, before its audio is stored (size 0, sha256 of zeros): the checks,
 * without I/O. Invalid input throws a ValidationError naming the fields.
 */
export function callEventFor(site: string, call: CallMetadata, format: AudioDescription): CallCompleted {
  const checked = validateCallCompleted({
    ...call,
    // String(): a missing call id is reported by the validation, not by the derivation.
    eventId: uuidv5(String(call.callId), CALL_EVENT_NAMESPACE),
    originSite: site,
    audio: {
      objectKey: PENDING_OBJECT_KEY,
      sizeBytes: 0,
      sha256: "0".repeat(64),
      contentType: format.contentType,
      codec: format.codec,
      channels: format.channels,
      sampleRateHz: format.sampleRateHz,
    },
  });
  if (!checked.ok) throw checked.error;
  const objectKey = audioObjectKey(call.tenantId, call.startedAtMs, call.callId);
  return { ...checked.value, audio: { ...checked.value.audio!, objectKey } };
}

/** The event an edit is published as, given the version it is based on and the writer's clock. */
export function userEventFor(
  site: string,
  edit: UserEdit,
  baseVersion: VersionVector,
  hlc: Hlc,
): UserChanged {
  const changes = edit.operation === "UPSERT" ? (edit.changes ?? {}) : {};
  const changedFields = (Object.keys(changes) as UserFieldName[]).filter((f) => changes[f] !== undefined);
  const checked = validateUserChanged({
    eventId: edit.eventId ?? crypto.randomUUID(),
    userId: edit.userId,
    tenantId: edit.tenantId,
    groupId: edit.groupId,
    operation: edit.operation,
    changedFields,
    fields: { ...EMPTY_FIELDS, ...changes },
    hlc,
    baseVersion,
    originSite: site,
  });
  if (!checked.ok) throw checked.error;
  return checked.value;
}

/**
 * What a recorder embeds to publish: audio to the site's object store first, then the event to the
 * site's Kafka (idempotent producer, acks=all, keyed by the call or user id).
 */
export class RecorderPublisher {
  constructor(
    private readonly deps: {
      site: string;
      producer: Producer;
      codec: EventCodec;
      store: ObjectStore;
      clock: HybridLogicalClock;
      baseVersions?: BaseVersionSource;
    },
  ) {}

  /**
   * Uploads the audio (streamed, hashed while streaming) unless a previous attempt already stored it,
   * then publishes the event. Calling it again for the same call publishes the same event id and
   * uploads nothing twice. Invalid input throws before anything is written.
   */
  async publishCallCompleted(call: CallMetadata, audio: AudioInput): Promise<CallCompleted> {
    const planned = callEventFor(this.deps.site, call, audio);
    const objectKey = planned.audio!.objectKey;
    // A previous attempt's upload is reused when the store vouches for its checksum; an object without
    // one (another writer's, or stored before checksums were cached) is replaced by this call's audio.
    const existing = await this.deps.store.head(objectKey);
    const stored =
      existing?.sha256 !== undefined
        ? { ...existing, sha256: existing.sha256 }
        : await this.deps.store.put(objectKey, audio.body, { contentType: audio.contentType });
    if (!audio.body.destroyed) audio.body.destroy();
    const event: CallCompleted = {
      ...planned,
      audio: { ...planned.audio!, sizeBytes: stored.sizeBytes, sha256: stored.sha256 },
    };
    await this.send(CALLS_TOPIC, event.callId, event, event.tenantId, event.groupId);
    return event;
  }

  /** Publishes an upsert or delete carrying the writer's clock and the version it was based on. */
  async publishUserChanged(edit: UserEdit): Promise<UserChanged> {
    const baseVersion = edit.baseVersion ?? (await this.deps.baseVersions?.(edit.userId)) ?? {};
    // The edit's clock must exceed every clock in the version it saw, or it could lose to its own past.
    for (const seen of Object.values(baseVersion)) this.deps.clock.receive(seen);
    const event = userEventFor(this.deps.site, edit, baseVersion, this.deps.clock.now());
    await this.send(USERS_TOPIC, event.userId, event, event.tenantId, event.groupId);
    return event;
  }

  private async send(
    topic: string,
    key: string,
    event: CallCompleted | UserChanged,
    tenantId: string,
    groupId: string,
  ): Promise<void> {
    const value = await this.deps.codec.encode(topic, event);
    const headers = buildHeaders({ eventId: event.eventId, origin: this.deps.site, tenantId, groupId });
    await this.deps.producer.send({ topic, acks: -1, messages: [{ key, value, headers }] });
  }
}
