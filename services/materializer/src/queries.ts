/**
 * The site database's read side for the operator tools (`tandem status`, `demo`, `verify`,
 * `replay --rebuild`): named reads returning typed rows, so that the tables' shape stays this package's.
 */
import type pg from "pg";
import type { AudioState } from "./core/batch";

/** Restricts a read to some tenants; no restriction when undefined. */
export type TenantScope = string[] | undefined;

const inScope = (alias = "") => `($1::uuid[] IS NULL OR ${alias}tenant_id = ANY($1::uuid[]))`;

export async function countOpenConflicts(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM conflicts WHERE status = 'open'",
  );
  return Number(rows[0]!.n);
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
  const { rows } = await pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM calls WHERE audio_state = 'pending'",
  );
  return Number(rows[0]!.n);
}

export interface SiteTotals {
  callsByOrigin: Map<string, number>;
  audioPending: number;
  /** Users not deleted. */
  users: number;
  openConflicts: number;
}

/** The figures a live dashboard shows for a site. */
export async function siteTotals(pool: pg.Pool): Promise<SiteTotals> {
  const origins = await pool.query<{ origin_site: string; n: string }>(
    "SELECT origin_site, count(*) AS n FROM calls GROUP BY origin_site",
  );
  const counts = await pool.query<{ pending: string; users: string; conflicts: string }>(
    `SELECT (SELECT count(*) FROM calls WHERE audio_state = 'pending') AS pending,
            (SELECT count(*) FROM users WHERE NOT deleted) AS users,
            (SELECT count(*) FROM conflicts WHERE status = 'open') AS conflicts`,
  );
  const row = counts.rows[0]!;
  return {
    callsByOrigin: new Map(origins.rows.map((r) => [r.origin_site, Number(r.n)])),
    audioPending: Number(row.pending),
    users: Number(row.users),
    openConflicts: Number(row.conflicts),
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
       FROM calls WHERE ${inScope()} AND substr(call_id::text, 1, 1) = ANY($2)`,
    [tenants ?? null, buckets],
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
