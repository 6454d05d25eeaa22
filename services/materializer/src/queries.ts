/**
 * The site database's read side for the operator tools (`tandem status`, `demo`, `verify`, `repair`,
 * `replay --rebuild`): named reads returning typed rows, so that the tables' shape stays this package's.
 */
import type pg from "pg";
import type { CallCompleted, CallDirection } from "@tandem/events";
import type { AudioState } from "./core/batch";
import { decodeUserState, type UserState } from "./core/users";

/** Restricts a read to some tenants; no restriction when undefined. */
export type TenantScope = string[] | undefined;

const inScope = (alias = "") => `($1::uuid[] IS NULL OR ${alias}tenant_id = ANY($1::uuid[]))`;

export async function countOpenConflicts(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM conflicts WHERE status = 'open'",
  );
  return Number(rows[0]!.n);
}

/** Calls whose audio copy has not succeeded yet, and how long the oldest has waited. */
export interface AudioBacklog {
  pending: number;
  /** Seconds since the oldest pending call was recorded here; undefined when none is pending. */
  oldestPendingSeconds: number | undefined;
}

/**
 * A copy whose origin store is unreachable waits without spending its retry budget, for as long as the outage
 * lasts: this is where an operator sees it.
 */
export async function audioBacklog(pool: pg.Pool, tenants: TenantScope = undefined): Promise<AudioBacklog> {
  const { rows } = await pool.query<{ n: string; oldest: string | null }>(
    `SELECT count(*) AS n, extract(epoch FROM now() - min(first_seen_at)) AS oldest
     FROM calls WHERE audio_state = 'pending' AND ${inScope()}`,
    [tenants ?? null],
  );
  const { n, oldest } = rows[0]!;
  return {
    pending: Number(n),
    oldestPendingSeconds: oldest === null ? undefined : Math.max(0, Number(oldest)),
  };
}

export async function countCalls(pool: pg.Pool, tenants: TenantScope): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM calls WHERE ${inScope()}`, [
    tenants ?? null,
  ]);
  return Number(rows[0]!.n);
}

/** Users as rows, deleted ones (tombstones) included. */
export async function countUsers(pool: pg.Pool, tenants: TenantScope): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM users WHERE ${inScope()}`, [
    tenants ?? null,
  ]);
  return Number(rows[0]!.n);
}

export async function countPendingAudio(pool: pg.Pool): Promise<number> {
  return (await audioBacklog(pool)).pending;
}

export interface SiteTotals {
  callsByOrigin: Map<string, number>;
  audioPending: number;
  /** Audio given up on after its retry budget (dead-lettered). */
  audioFailed: number;
  /** Users not deleted. */
  users: number;
  openConflicts: number;
  /**
   * Changes whenever an open conflict appears, goes or changes its sides, even when their number stays
   * the same (one resolved while another opens): a page showing the queue reads it again on a change.
   */
  openConflictsDigest: string;
}

/** The open conflicts' count and a sum of their hashes (see SiteTotals.openConflictsDigest). */
const OPEN_CONFLICTS_DIGEST = `(SELECT count(*) || ':' || coalesce(sum(hashtext(user_id::text || field || siblings::text)), 0)
    FROM conflicts WHERE status = 'open')`;

/** The digest of the open conflicts alone: read before the queue, a change in between shows as one. */
export async function openConflictsDigest(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ digest: string }>(`SELECT ${OPEN_CONFLICTS_DIGEST} AS digest`);
  return rows[0]!.digest;
}

/** The figures a live dashboard shows for a site. */
export async function siteTotals(pool: pg.Pool): Promise<SiteTotals> {
  const origins = await pool.query<{ origin_site: string; n: string }>(
    "SELECT origin_site, count(*) AS n FROM calls GROUP BY origin_site",
  );
  const counts = await pool.query<{
    pending: string;
    failed: string;
    users: string;
    conflicts: string;
    conflicts_digest: string;
  }>(
    `SELECT (SELECT count(*) FROM calls WHERE audio_state = 'pending') AS pending,
            (SELECT count(*) FROM calls WHERE audio_state = 'failed') AS failed,
            (SELECT count(*) FROM users WHERE NOT deleted) AS users,
            (SELECT count(*) FROM conflicts WHERE status = 'open') AS conflicts,
            ${OPEN_CONFLICTS_DIGEST} AS conflicts_digest`,
  );
  const row = counts.rows[0]!;
  return {
    callsByOrigin: new Map(origins.rows.map((r) => [r.origin_site, Number(r.n)])),
    audioPending: Number(row.pending),
    audioFailed: Number(row.failed),
    users: Number(row.users),
    openConflicts: Number(row.conflicts),
    openConflictsDigest: row.conflicts_digest,
  };
}

/**
 * Bucket by bucket reads for an audit across sites: a bucket is the calls (or users) whose UUID starts
 * with one hex digit. Digests of whole buckets are compared first, so sites that agree are compared
 * without reading their rows.
 */
export const BUCKETS = [..."0123456789abcdef"];

const CALL_DIGEST = `md5(string_agg(call_id::text || ':' || coalesce(audio_sha256, '') || ':' || audio_state, ',' ORDER BY call_id))`;
const USER_FINGERPRINT = `md5(concat_ws('|', deleted, name, email, array_to_string(extensions, ','), role, active))`;

/** A call as a site holds it: what must agree across sites. */
export interface CallSummary {
  callId: string;
  tenantId: string;
  groupId: string;
  originSite: string;
  audioSha256: string | null;
  audioState: AudioState;
  firstSeenAt: Date;
}

/** A user as a site shows it; `fingerprint` covers every visible field. */
export interface UserSummary {
  userId: string;
  tenantId: string;
  groupId: string;
  fingerprint: string;
  openConflicts: number;
  /** Sites whose edits the user's version includes. */
  origins: string[];
}

export async function callBucketDigests(pool: pg.Pool, tenants: TenantScope): Promise<Map<string, string>> {
  const result = await pool.query<{ bucket: string; digest: string }>(
    `SELECT substr(call_id::text, 1, 1) AS bucket, ${CALL_DIGEST} AS digest FROM calls WHERE ${inScope()} GROUP BY 1`,
    [tenants ?? null],
  );
  return new Map(result.rows.map((r) => [r.bucket, r.digest]));
}

export async function userBucketDigests(pool: pg.Pool, tenants: TenantScope): Promise<Map<string, string>> {
  const result = await pool.query<{ bucket: string; digest: string }>(
    `SELECT substr(user_id::text, 1, 1) AS bucket,
            md5(string_agg(user_id::text || ':' || ${USER_FINGERPRINT}, ',' ORDER BY user_id)) AS digest
       FROM users WHERE ${inScope()} GROUP BY 1`,
    [tenants ?? null],
  );
  return new Map(result.rows.map((r) => [r.bucket, r.digest]));
}

export async function callsInBuckets(
  pool: pg.Pool,
  buckets: string[],
  tenants: TenantScope,
): Promise<Map<string, CallSummary>> {
  return callSummaries(pool, "substr(call_id::text, 1, 1) = ANY($2)", [tenants ?? null, buckets]);
}

export async function callsById(
  pool: pg.Pool,
  callIds: string[],
  tenants: TenantScope,
): Promise<Map<string, CallSummary>> {
  return callSummaries(pool, "call_id = ANY($2::uuid[])", [tenants ?? null, callIds]);
}

/**
 * Calls with audio not present here that a site of `audited` must vouch for: the ones recorded here, and
 * those whose origin is not audited (then no audited site may have their audio). A call whose audio its
 * origin does not hold agrees across sites (pending everywhere), so the bucket digests cannot show it.
 */
export async function callsAwaitingOwnAudio(
  pool: pg.Pool,
  site: string,
  audited: string[],
  tenants: TenantScope,
): Promise<string[]> {
  const { rows } = await pool.query<{ call_id: string }>(
    `SELECT call_id FROM calls
      WHERE ${inScope()} AND audio_sha256 IS NOT NULL AND audio_state <> 'present'
        AND (origin_site = $2 OR origin_site <> ALL($3::text[]))`,
    [tenants ?? null, site, audited],
  );
  return rows.map((r) => r.call_id);
}

async function callSummaries(
  pool: pg.Pool,
  condition: string,
  params: unknown[],
): Promise<Map<string, CallSummary>> {
  const result = await pool.query<{
    call_id: string;
    tenant_id: string;
    group_id: string;
    origin_site: string;
    audio_sha256: string | null;
    audio_state: AudioState;
    first_seen_at: Date;
  }>(
    `SELECT call_id, tenant_id, group_id, origin_site, audio_sha256, audio_state, first_seen_at
       FROM calls WHERE ${inScope()} AND ${condition}`,
    params,
  );
  return new Map(
    result.rows.map((r) => [
      r.call_id,
      {
        callId: r.call_id,
        tenantId: r.tenant_id,
        groupId: r.group_id,
        originSite: r.origin_site,
        audioSha256: r.audio_sha256,
        audioState: r.audio_state,
        firstSeenAt: r.first_seen_at,
      },
    ]),
  );
}

export async function usersInBuckets(
  pool: pg.Pool,
  buckets: string[],
  tenants: TenantScope,
): Promise<Map<string, UserSummary>> {
  const result = await pool.query<{
    user_id: string;
    tenant_id: string;
    group_id: string;
    fingerprint: string;
    open_conflicts: string;
    origins: string[];
  }>(
    `SELECT u.user_id, u.tenant_id, u.group_id, ${USER_FINGERPRINT} AS fingerprint,
            (SELECT count(*) FROM conflicts c WHERE c.user_id = u.user_id AND c.status = 'open') AS open_conflicts,
            ARRAY(SELECT jsonb_object_keys(u.version)) AS origins
       FROM users u WHERE ${inScope("u.")} AND substr(u.user_id::text, 1, 1) = ANY($2)`,
    [tenants ?? null, buckets],
  );
  return new Map(
    result.rows.map((r) => [
      r.user_id,
      {
        userId: r.user_id,
        tenantId: r.tenant_id,
        groupId: r.group_id,
        fingerprint: r.fingerprint,
        openConflicts: Number(r.open_conflicts),
        origins: r.origins,
      },
    ]),
  );
}

/**
 * Calls as the CallCompleted events they were materialized from (same event id, origin and audio
 * reference: the origin's object key and sha256), for `tandem repair` to publish them again.
 */
export async function callEventsById(pool: pg.Pool, callIds: readonly string[]): Promise<CallCompleted[]> {
  const { rows } = await pool.query<{
    call_id: string;
    event_id: string;
    tenant_id: string;
    group_id: string;
    participant_user_ids: string[];
    origin_site: string;
    recorder_id: string;
    direction: CallDirection;
    caller_number: string;
    caller_name: string | null;
    callee_number: string;
    callee_name: string | null;
    started_at: Date;
    ended_at: Date;
    duration_ms: string;
    attributes: Record<string, string>;
    audio_origin_object_key: string | null;
    audio_size_bytes: string | null;
    audio_sha256: string | null;
    audio_content_type: string | null;
    audio_codec: string | null;
    audio_channels: number | null;
    audio_sample_rate_hz: number | null;
  }>(
    `SELECT call_id, event_id, tenant_id, group_id, participant_user_ids, origin_site, recorder_id, direction,
            caller_number, caller_name, callee_number, callee_name, started_at, ended_at, duration_ms,
            attributes, audio_origin_object_key, audio_size_bytes, audio_sha256, audio_content_type,
            audio_codec, audio_channels, audio_sample_rate_hz
       FROM calls WHERE call_id = ANY($1::uuid[]) ORDER BY call_id`,
    [callIds],
  );
  return rows.map((r) => ({
    eventId: r.event_id,
    callId: r.call_id,
    tenantId: r.tenant_id,
    groupId: r.group_id,
    participantUserIds: r.participant_user_ids,
    originSite: r.origin_site,
    recorderId: r.recorder_id,
    direction: r.direction,
    caller: { number: r.caller_number, name: r.caller_name },
    callee: { number: r.callee_number, name: r.callee_name },
    startedAtMs: r.started_at.getTime(),
    endedAtMs: r.ended_at.getTime(),
    durationMs: Number(r.duration_ms),
    audio:
      r.audio_sha256 === null
        ? null
        : {
            objectKey: r.audio_origin_object_key!,
            sizeBytes: Number(r.audio_size_bytes),
            sha256: r.audio_sha256,
            contentType: r.audio_content_type!,
            codec: r.audio_codec!,
            channels: r.audio_channels!,
            sampleRateHz: r.audio_sample_rate_hz!,
          },
    attributes: r.attributes,
  }));
}

/** The audio state of each call the site holds among `callIds`. */
export async function audioStates(
  pool: pg.Pool,
  callIds: readonly string[],
): Promise<Map<string, AudioState>> {
  const { rows } = await pool.query<{ call_id: string; audio_state: AudioState }>(
    "SELECT call_id, audio_state FROM calls WHERE call_id = ANY($1::uuid[])",
    [callIds],
  );
  return new Map(rows.map((r) => [r.call_id, r.audio_state]));
}

/** The calls among `callIds` that have a dead-letter record at the site whose reason starts so. */
export async function deadLetteredCalls(
  pool: pg.Pool,
  callIds: readonly string[],
  reasonPrefix: string,
): Promise<Set<string>> {
  const { rows } = await pool.query<{ call_id: string }>(
    "SELECT DISTINCT call_id FROM dlq_records WHERE call_id = ANY($1::uuid[]) AND starts_with(reason, $2)",
    [callIds, reasonPrefix],
  );
  return new Set(rows.map((r) => r.call_id));
}

/** The merge state of each user the site holds among `userIds`, as its materializer stored it. */
export async function userStatesById(
  pool: pg.Pool,
  userIds: readonly string[],
): Promise<Map<string, UserState>> {
  const { rows } = await pool.query<{ user_id: string; state: unknown }>(
    "SELECT user_id, state FROM users WHERE user_id = ANY($1::uuid[])",
    [userIds],
  );
  return new Map(rows.map((r) => [r.user_id, decodeUserState(r.state)]));
}
