import type pg from "pg";
import type { CallRow } from "../core/batch";

const COLUMNS = [
  "call_id",
  "event_id",
  "tenant_id",
  "group_id",
  "participant_user_ids",
  "origin_site",
  "recorder_id",
  "direction",
  "caller_number",
  "caller_name",
  "callee_number",
  "callee_name",
  "started_at",
  "ended_at",
  "duration_ms",
  "attributes",
  "audio_origin_object_key",
  "audio_size_bytes",
  "audio_sha256",
  "audio_content_type",
  "audio_codec",
  "audio_channels",
  "audio_sample_rate_hz",
  "audio_state",
  "local_object_key",
  "source_topic",
  "source_partition",
  "source_offset",
] as const;

function values(row: CallRow): unknown[] {
  return [
    row.callId,
    row.eventId,
    row.tenantId,
    row.groupId,
    row.participantUserIds,
    row.originSite,
    row.recorderId,
    row.direction,
    row.callerNumber,
    row.callerName,
    row.calleeNumber,
    row.calleeName,
    row.startedAt,
    row.endedAt,
    row.durationMs,
    JSON.stringify(row.attributes),
    row.audioOriginObjectKey,
    row.audioSizeBytes,
    row.audioSha256,
    row.audioContentType,
    row.audioCodec,
    row.audioChannels,
    row.audioSampleRateHz,
    row.audioState,
    row.localObjectKey,
    row.sourceTopic,
    row.sourcePartition,
    row.sourceOffset,
  ];
}

/** Rows per statement: PostgreSQL allows 65535 parameters. */
const CHUNK = 1000;

/**
 * Inserts the calls not yet known; a known call is left as it is (a call is immutable), except that a
 * redelivery of a call whose audio copy failed re-arms the copy: `tandem repair` heals failed audio
 * through the log, once a site holds a verified copy again. Calls with audio get their transfer
 * scheduled. Returns the number of new calls.
 */
export async function insertCalls(client: pg.PoolClient, rows: readonly CallRow[]): Promise<number> {
  let inserted = 0;
  for (let start = 0; start < rows.length; start += CHUNK) {
    const chunk = rows.slice(start, start + CHUNK);
    const params: unknown[] = [];
    const tuples = chunk.map((row) => {
      const placeholders = values(row).map((value) => {
        params.push(value);
        return `$${params.length}`;
      });
      return `(${placeholders.join(", ")})`;
    });
    // `xmax = 0` tells an inserted row from a re-armed one.
    const result = await client.query<{ call_id: string; audio_state: string; inserted: boolean }>(
      `INSERT INTO calls (${COLUMNS.join(", ")}) VALUES ${tuples.join(", ")}
       ON CONFLICT (call_id) DO UPDATE SET audio_state = 'pending'
         WHERE calls.audio_state = 'failed' AND calls.audio_sha256 = excluded.audio_sha256
       RETURNING call_id, audio_state, (xmax = 0) AS inserted`,
      params,
    );
    inserted += result.rows.filter((row) => row.inserted).length;
    const withAudio = result.rows.filter((row) => row.audio_state === "pending").map((row) => row.call_id);
    if (withAudio.length > 0) {
      await client.query(
        `INSERT INTO audio_transfers (call_id) SELECT unnest($1::uuid[])
         ON CONFLICT (call_id) DO UPDATE SET attempts = 0, outages = 0, next_attempt_at = now(), completed_at = NULL`,
        [withAudio],
      );
    }
  }
  return inserted;
}
