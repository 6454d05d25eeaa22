/** A record as inspect and replay show it: coordinates, headers, and the decoded event or why not. */
import {
  eventKindForTopic,
  type CallCompleted,
  type EventCodec,
  type EventKind,
  type UserChanged,
} from "@tandem/events";
import type { IHeaders } from "kafkajs";
import { isPermanent } from "@tandem/runtime";
import type { ReadRecord } from "./reader";

export interface RecordView {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  headers: Record<string, string>;
  kind?: EventKind;
  event?: CallCompleted | UserChanged;
  /** Why the value is not an event (a DecodeError's message). */
  error?: string;
  /** The raw value, for records that are not events (DLQ, heartbeats) or cannot be decoded. */
  value?: { bytes: number; hex: string };
}

/** How much of a raw value is shown. */
export const VALUE_PREFIX_BYTES = 32;

export function headerStrings(headers: IHeaders): Record<string, string> {
  const text = (v: Buffer | string) => (typeof v === "string" ? v : v.toString("utf8"));
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, Array.isArray(value) ? value.map(text).join(",") : text(value!)]),
  );
}

function rawValue(value: Buffer | null): RecordView["value"] {
  const bytes = value ?? Buffer.alloc(0);
  return { bytes: bytes.length, hex: bytes.subarray(0, VALUE_PREFIX_BYTES).toString("hex") };
}

/**
 * Decodes the record with the site's registry. A bad record (DecodeError) is shown with its error and
 * raw bytes; a registry that cannot be reached is thrown (nothing could be decoded).
 */
export async function viewRecord(codec: EventCodec, record: ReadRecord): Promise<RecordView> {
  const view: RecordView = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: new Date(record.timestampMs).toISOString(),
    key: record.key === null ? null : record.key.toString("utf8"),
    headers: headerStrings(record.headers),
  };
  if (eventKindForTopic(record.topic) === undefined) return { ...view, value: rawValue(record.value) };
  try {
    const decoded = await codec.decode(record.value, record);
    return { ...view, kind: decoded.kind, event: decoded.event };
  } catch (error) {
    if (!isPermanent(error)) throw error;
    return { ...view, error: error.message, value: rawValue(record.value) };
  }
}

/** The tenant of a record: the decoded event's, else the header's (a bad record may still carry one). */
export function tenantOf(view: RecordView): string | undefined {
  return view.event?.tenantId ?? view.headers["tandem-tenant"];
}
