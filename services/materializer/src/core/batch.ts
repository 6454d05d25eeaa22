/** What one consumed batch does to the database and the DLQ: decided here, applied by the adapters. */
import { audioObjectKey, type CallCompleted, type TandemEvent, type UserChanged } from "@tandem/events";

export interface SourceRecord {
  topic: string;
  partition: number;
  offset: string;
}

export type DecodedRecord<R extends SourceRecord = SourceRecord> =
  { record: R; ok: true; event: TandemEvent } | { record: R; ok: false; reason: string };

export type AudioState = "pending" | "present" | "failed" | "none";

/** A `calls` row, column for column. */
export interface CallRow {
  callId: string;
  eventId: string;
  tenantId: string;
  groupId: string;
  participantUserIds: string[];
  originSite: string;
  recorderId: string;
  direction: string;
  callerNumber: string;
  callerName: string | null;
  calleeNumber: string;
  calleeName: string | null;
  startedAt: Date;
  endedAt: Date;
  durationMs: number;
  attributes: Record<string, string>;
  audioOriginObjectKey: string | null;
  audioSizeBytes: number | null;
  audioSha256: string | null;
  audioContentType: string | null;
  audioCodec: string | null;
  audioChannels: number | null;
  audioSampleRateHz: number | null;
  audioState: AudioState;
  localObjectKey: string | null;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: number;
}

/** A decoded event and the record it came from. */
export interface SourcedEvent<R extends SourceRecord = SourceRecord> {
  record: R;
  event: TandemEvent;
}

export interface BatchPlan {
  /** One row per call id, from its first record in the batch (a call is immutable). */
  calls: CallRow[];
  /** Per user, in user id order (a fixed lock order), the user's events without duplicates. */
  users: Array<{ userId: string; events: UserChanged[] }>;
}

export function callRow(event: CallCompleted, source: SourceRecord): CallRow {
  const audio = event.audio;
  return {
    callId: event.callId,
    eventId: event.eventId,
    tenantId: event.tenantId,
    groupId: event.groupId,
    participantUserIds: [...event.participantUserIds],
    originSite: event.originSite,
    recorderId: event.recorderId,
    direction: event.direction,
    callerNumber: event.caller.number,
    callerName: event.caller.name,
    calleeNumber: event.callee.number,
    calleeName: event.callee.name,
    startedAt: new Date(event.startedAtMs),
    endedAt: new Date(event.endedAtMs),
    durationMs: event.durationMs,
    attributes: { ...event.attributes },
    audioOriginObjectKey: audio?.objectKey ?? null,
    audioSizeBytes: audio?.sizeBytes ?? null,
    audioSha256: audio?.sha256 ?? null,
    audioContentType: audio?.contentType ?? null,
    audioCodec: audio?.codec ?? null,
    audioChannels: audio?.channels ?? null,
    audioSampleRateHz: audio?.sampleRateHz ?? null,
    audioState: audio === null ? "none" : "pending",
    localObjectKey: audio === null ? null : audioObjectKey(event.tenantId, event.startedAtMs, event.callId),
    sourceTopic: source.topic,
    sourcePartition: source.partition,
    sourceOffset: Number(source.offset),
  };
}

export function planBatch(events: readonly SourcedEvent[]): BatchPlan {
  const calls = new Map<string, CallRow>();
  const users = new Map<string, Map<string, UserChanged>>();
  for (const { record, event: decoded } of events) {
    if (decoded.kind === "CallCompleted") {
      const event = decoded.event;
      if (!calls.has(event.callId)) calls.set(event.callId, callRow(event, record));
    } else {
      const event = decoded.event;
      const forUser = users.get(event.userId) ?? new Map<string, UserChanged>();
      if (!forUser.has(event.eventId)) forUser.set(event.eventId, event);
      users.set(event.userId, forUser);
    }
  }
  return {
    calls: [...calls.values()].sort((a, b) => compare(a.callId, b.callId)),
    users: [...users.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([userId, events]) => ({ userId, events: [...events.values()] })),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
