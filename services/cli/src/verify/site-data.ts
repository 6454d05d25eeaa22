import type pg from "pg";
import type { CallRow, UserRow } from "./compare";

/**
 * Reads what a site's database holds, bucket by bucket: a bucket is the calls (or users) whose UUID
 * starts with one hex digit. Digests of whole buckets are compared first, so sites that agree are
 * compared without reading their rows.
 */
export const BUCKETS = [..."0123456789abcdef"];

const CALL_DIGEST = `md5(string_agg(call_id::text || ':' || coalesce(audio_sha256, '') || ':' || audio_state, ',' ORDER BY call_id))`;
const USER_FINGERPRINT = `md5(concat_ws('|', deleted, name, email, array_to_string(extensions, ','), role, active))`;

/** Restricts a query to some tenants; no restriction when `tenants` is undefined. */
export type TenantScope = string[] | undefined;
const inScope = (alias = "") => `($1::uuid[] IS NULL OR ${alias}tenant_id = ANY($1::uuid[]))`;

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
): Promise<Map<string, CallRow>> {
  const result = await pool.query<{
    call_id: string;
    tenant_id: string;
    group_id: string;
    origin_site: string;
    audio_sha256: string | null;
    audio_state: CallRow["audioState"];
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
): Promise<Map<string, UserRow>> {
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

/** Buckets whose digest is not the same at every site: only these are read row by row. */
export function differingBuckets(digests: Array<Map<string, string>>): string[] {
  return BUCKETS.filter((bucket) => new Set(digests.map((d) => d.get(bucket) ?? "")).size > 1);
}
