import type pg from "pg";
import { inTransaction } from "./pool";
import type { FailureDecision, SourceOutcome } from "../core/transfer";

export interface ClaimedTransfer {
  callId: string;
  tenantId: string;
  originSite: string;
  originKey: string;
  localKey: string;
  sha256: string;
  sizeBytes: number;
  contentType: string;
  /** Including the attempt just claimed. */
  attempts: number;
  /** Earlier attempts that met only an outage. */
  outages: number;
}

/** The call columns a transfer needs, as `transferOf` reads them. */
const TRANSFER_COLUMNS = `c.call_id, c.tenant_id, c.origin_site, c.audio_origin_object_key, c.local_object_key,
  c.audio_sha256, c.audio_size_bytes, c.audio_content_type`;

interface TransferRow {
  call_id: string;
  tenant_id: string;
  origin_site: string;
  audio_origin_object_key: string;
  local_object_key: string;
  audio_sha256: string;
  audio_size_bytes: number;
  audio_content_type: string;
  attempts: number;
  outages: number;
}

function transferOf(row: TransferRow): ClaimedTransfer {
  return {
    callId: row.call_id,
    tenantId: row.tenant_id,
    originSite: row.origin_site,
    originKey: row.audio_origin_object_key,
    localKey: row.local_object_key,
    sha256: row.audio_sha256,
    sizeBytes: row.audio_size_bytes,
    contentType: row.audio_content_type,
    attempts: row.attempts,
    outages: row.outages,
  };
}

/**
 * Claims due transfers for one attempt each: the attempt is counted and the transfer leased (its next
 * attempt moved past the lease) in the claiming transaction, so a process that dies mid-copy leaves it
 * to be retried after the lease, and concurrent workers skip each other's rows.
 */
/** Claims due transfers, except those of calls from the origins held back by their link's schedule. */
export async function claimTransfers(
  pool: pg.Pool,
  limit: number,
  leaseMs: number,
  heldOrigins: readonly string[] = [],
): Promise<ClaimedTransfer[]> {
  const { rows } = await pool.query<TransferRow>(
    `WITH due AS (
       SELECT t.call_id FROM audio_transfers t JOIN calls c ON c.call_id = t.call_id
       WHERE t.completed_at IS NULL AND c.audio_state = 'pending' AND t.next_attempt_at <= now()
         AND NOT (c.origin_site = ANY($3::text[]))
       ORDER BY t.next_attempt_at LIMIT $1
       FOR UPDATE OF t SKIP LOCKED
     ), claimed AS (
       UPDATE audio_transfers t SET attempts = t.attempts + 1,
         next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
       FROM due WHERE t.call_id = due.call_id
       RETURNING t.call_id, t.attempts, t.outages
     )
     SELECT ${TRANSFER_COLUMNS}, claimed.attempts, claimed.outages
     FROM claimed JOIN calls c ON c.call_id = claimed.call_id`,
    [limit, leaseMs, heldOrigins],
  );
  return rows.map(transferOf);
}

/** Every call whose audio is still pending, as a first attempt (a rebuild copies them all at once). */
export async function pendingTransfers(pool: pg.Pool): Promise<ClaimedTransfer[]> {
  const { rows } = await pool.query<TransferRow>(
    `SELECT ${TRANSFER_COLUMNS}, 1 AS attempts, 0 AS outages FROM calls c WHERE c.audio_state = 'pending' ORDER BY c.call_id`,
  );
  return rows.map(transferOf);
}

export async function markPresent(
  pool: pg.Pool,
  callId: string,
  bytesCopied: number,
  outcomes: readonly SourceOutcome[],
): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(
      `UPDATE calls SET audio_state = 'present' WHERE call_id = $1 AND audio_state = 'pending'`,
      [callId],
    );
    await client.query(
      `UPDATE audio_transfers SET completed_at = now(), last_error = NULL, bytes_copied = $2,
         sources_tried = sources_tried || $3::jsonb
       WHERE call_id = $1`,
      [callId, bytesCopied, JSON.stringify([outcomes])],
    );
  });
}

/**
 * Records a failed attempt: scheduled again (an outage counted apart), or, once the budget is spent, the
 * audio is failed.
 */
export async function recordFailure(
  pool: pg.Pool,
  callId: string,
  decision: FailureDecision,
  reason: string,
  outcomes: readonly SourceOutcome[],
): Promise<void> {
  await inTransaction(pool, async (client) => {
    if (decision.kind === "retry") {
      await client.query(
        `UPDATE audio_transfers SET next_attempt_at = $2, last_error = $3, sources_tried = sources_tried || $4::jsonb,
           outages = outages + $5
         WHERE call_id = $1`,
        [callId, decision.nextAttemptAt, reason, JSON.stringify([outcomes]), decision.outage ? 1 : 0],
      );
    } else {
      await client.query(
        `UPDATE calls SET audio_state = 'failed' WHERE call_id = $1 AND audio_state = 'pending'`,
        [callId],
      );
      await client.query(
        `UPDATE audio_transfers SET completed_at = now(), last_error = $2, sources_tried = sources_tried || $3::jsonb
         WHERE call_id = $1`,
        [callId, reason, JSON.stringify([outcomes])],
      );
    }
  });
}

export async function recordDlq(
  pool: pg.Pool,
  entry: { id: string; reason: string; topic?: string; partition?: number; offset?: string; callId?: string },
): Promise<void> {
  await pool.query(
    `INSERT INTO dlq_records (id, reason, source_topic, source_partition, source_offset, call_id)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
    [
      entry.id,
      entry.reason,
      entry.topic ?? null,
      entry.partition ?? null,
      entry.offset ?? null,
      entry.callId ?? null,
    ],
  );
}
