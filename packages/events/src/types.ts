/**
 * Typed events, one to one with the Avro schemas in `schemas/`.
 * A test compares these shapes with the schemas, so an edit to one without the other fails.
 */

/** Hybrid logical clock timestamp: wall time in ms plus a logical counter for events in the same ms. */
export interface Hlc {
  wallTimeMs: number;
  logical: number;
}

/**
 * Version vector: for each site, the highest HLC of that site's edits the writer had seen.
 * Keys are site ids.
 */
export type VersionVector = Record<string, Hlc>;

export type CallDirection = "INBOUND" | "OUTBOUND" | "INTERNAL";

export interface Party {
  number: string;
  name: string | null;
}

export interface AudioRef {
  /** Object key in the origin site's store. */
  objectKey: string;
  sizeBytes: number;
  sha256: string;
  contentType: string;
  codec: string;
  channels: number;
  sampleRateHz: number;
}

export interface CallCompleted {
  eventId: string;
  callId: string;
  tenantId: string;
  groupId: string;
  participantUserIds: string[];
  originSite: string;
  recorderId: string;
  direction: CallDirection;
  caller: Party;
  callee: Party;
  startedAtMs: number;
  endedAtMs: number;
  durationMs: number;
  audio: AudioRef | null;
  attributes: Record<string, string>;
}

export type UserOperation = "UPSERT" | "DELETE";

/** The user fields that can be edited; a field absent from `changedFields` is left as it was. */
export interface UserFields {
  name: string | null;
  email: string | null;
  extensions: string[] | null;
  role: string | null;
  active: boolean | null;
}

export type UserFieldName = keyof UserFields;

export interface UserChanged {
  eventId: string;
  userId: string;
  tenantId: string;
  groupId: string;
  operation: UserOperation;
  /** The fields this edit sets; empty for a delete. */
  changedFields: UserFieldName[];
  fields: UserFields;
  /** The writer's clock at the edit. */
  hlc: Hlc;
  /** The version the writer based its edit on. */
  baseVersion: VersionVector;
  originSite: string;
}

export type TandemEvent =
  { kind: "CallCompleted"; event: CallCompleted } | { kind: "UserChanged"; event: UserChanged };
