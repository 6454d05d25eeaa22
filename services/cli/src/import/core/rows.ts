import path from "node:path";
import type { CallCompleted } from "@tandem/events";
import { callEventFor, type AudioDescription, type CallMetadata } from "@tandem/recorder";
import { validationProblem } from "../../publish/input";
import { callIdOf } from "./ids";
import { FIELDS, describe, readRow, type Field, type Mapping } from "./mapping";

/** A manifest row that passed the publisher's checks: what to upload and publish. */
export interface ImportCall {
  archiveId: string;
  /** The audio file as the manifest names it (relative to the audio directory unless absolute). */
  audioFile: string;
  call: CallMetadata;
  format: AudioDescription;
  /** The event as it will be published, but for the audio's size and sha256. */
  planned: CallCompleted;
}

/** A rejected row's verdict names the archive's id when the row has one, for the report. */
export type RowVerdict = { ok: true; value: ImportCall } | { ok: false; reason: string; id?: string };

const CONTENT_TYPES: Record<string, string> = {
  wav: "audio/wav",
  mp3: "audio/mpeg",
  ogg: "audio/ogg",
  opus: "audio/ogg",
  flac: "audio/flac",
  m4a: "audio/mp4",
};

/** A call event field (as the library's validation names it) and the manifest field it came from. */
const FIELD_OF_PATH: Record<string, Field> = {
  callId: "id",
  "caller.number": "callerNumber",
  "caller.name": "callerName",
  "callee.number": "calleeNumber",
  "callee.name": "calleeName",
  startedAtMs: "startedAt",
  endedAtMs: "endedAt",
  "audio.contentType": "contentType",
  "audio.codec": "codec",
  "audio.channels": "channels",
  "audio.sampleRateHz": "sampleRateHz",
};

/**
 * One manifest row as a call at `site`, checked by the recorder publisher's own rules (callEventFor);
 * a row that breaks one gets a reason naming its columns. No I/O: whether the audio file exists is the
 * caller's to check.
 */
export function callOfRow(
  values: Record<string, unknown>,
  mapping: Mapping,
  context: { site: string; idNamespace?: string },
): RowVerdict {
  const row = readRow(values, mapping);
  const name = (field: Field) => describe(field, row.source(field));
  const problems: string[] = [];
  const text = (field: Field) => {
    const value = row.value(field);
    return value === undefined ? undefined : typeof value === "string" ? value : String(value);
  };
  const numeric = (field: Field) => {
    const value = row.value(field);
    if (typeof value !== "string") return value;
    const parsed = Number(value.trim());
    if (Number.isNaN(parsed)) problems.push(`${name(field)}: not a number: ${JSON.stringify(value)}`);
    return parsed;
  };
  const time = (field: Field) => {
    const { ms, problem } = timeMs(row.value(field));
    if (problem !== undefined) problems.push(`${name(field)}: ${problem}`);
    return ms;
  };

  const archiveId = text("id");
  const audioFile = text("audio");
  if (archiveId === undefined) problems.push(`${name("id")}: is missing`);
  if (audioFile === undefined) problems.push(`${name("audio")}: is missing`);
  const startedAtMs = time("startedAt");
  const endedAt = time("endedAt");
  const seconds = numeric("durationSeconds");
  const durationMs =
    numeric("durationMs") ?? (typeof seconds === "number" ? Math.round(seconds * 1000) : seconds);
  const format = {
    contentType: text("contentType") ?? CONTENT_TYPES[path.extname(String(audioFile)).slice(1).toLowerCase()],
    codec: text("codec"),
    channels: numeric("channels"),
    sampleRateHz: numeric("sampleRateHz"),
  } as AudioDescription;
  // An archive gives the end, the duration, or both (then the validation checks they agree).
  const endedAtMs =
    endedAt ??
    (startedAtMs !== undefined && typeof durationMs === "number" ? startedAtMs + durationMs : undefined);
  if (problems.length > 0 || archiveId === undefined || audioFile === undefined) {
    return { ok: false, reason: problems.join("; "), ...(archiveId === undefined ? {} : { id: archiveId }) };
  }

  const tenantId = text("tenantId");
  const call = {
    callId: callIdOf(archiveId, tenantId ?? "", context.idNamespace),
    tenantId,
    groupId: text("groupId"),
    participantUserIds: userIds(row.value("participantUserIds")),
    recorderId: text("recorderId"),
    direction: text("direction")?.toUpperCase(),
    caller: { number: text("callerNumber"), name: text("callerName") ?? null },
    callee: { number: text("calleeNumber"), name: text("calleeName") ?? null },
    startedAtMs,
    endedAtMs,
    durationMs:
      durationMs ??
      (startedAtMs !== undefined && endedAtMs !== undefined ? endedAtMs - startedAtMs : undefined),
    attributes: attributesOf(row.unused),
  } as unknown as CallMetadata;

  try {
    const planned = callEventFor(context.site, call, format);
    return { ok: true, value: { archiveId, audioFile, call, format, planned } };
  } catch (error) {
    const problem = validationProblem(error, (eventField) => {
      const head = eventField.split(".")[0]!;
      if (eventField === "durationMs" && seconds !== undefined) return name("durationSeconds");
      if (head === "attributes") return `attribute ${eventField.slice("attributes.".length)}`;
      const field = FIELD_OF_PATH[eventField] ?? head;
      return field in FIELDS ? name(field as Field) : eventField;
    });
    if (problem === undefined) throw error;
    return { ok: false, reason: problem, id: archiveId };
  }
}

/**
 * A time: milliseconds since the epoch (a number, or digits), or ISO 8601 with a zone; a time without a
 * zone is refused rather than read in this machine's zone.
 */
export function timeMs(value: unknown): { ms?: number; problem?: string } {
  if (value === undefined) return {};
  if (typeof value === "number") return { ms: value };
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return { ms: Number(text) };
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text)) {
    return { problem: `not a time: ${JSON.stringify(text)} (ISO 8601 with a zone, or ms since the epoch)` };
  }
  const ms = Date.parse(text.replace(" ", "T"));
  return Number.isNaN(ms) ? { problem: `not a time: ${JSON.stringify(text)}` } : { ms };
}

/** Participants: a JSON array, or in CSV ids separated by `;`, `,` or spaces. */
function userIds(value: unknown): unknown {
  if (value === undefined) return [];
  if (typeof value !== "string") return value;
  return value.split(/[;,\s]+/).filter((id) => id !== "");
}

/** The columns no field used, as string attributes (`attributes.queue` of a JSON line becomes `queue`). */
function attributesOf(unused: Array<[string, unknown]>): Record<string, string> {
  return Object.fromEntries(
    unused.map(([column, value]) => [
      column.startsWith("attributes.") ? column.slice("attributes.".length) : column,
      typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value),
    ]),
  );
}
