import { BUCKETS, type CallSummary, type UserSummary } from "@tandem/materializer";
import type { Expectations } from "./expected";

export type DifferenceCause =
  | "in-flight"
  | "missing"
  | "unexpected"
  | "audio-pending"
  | "audio-failed"
  | "audio-mismatch"
  | "audio-missing-at-origin"
  | "conflicting"
  | "diverged";

export interface Difference {
  kind: "call" | "user";
  id: string;
  site: string;
  cause: DifferenceCause;
  detail: string;
}

export interface CompareOptions {
  now: Date;
  /** A call first seen this recently anywhere may still be on its way. */
  inFlightGraceMs: number;
}

/**
 * Why a call's audio cannot reach the sites, when the sites cannot get it from anywhere: its origin (when
 * audited) does not hold it verified, or else no audited site does. Undefined while the audio is
 * reachable, or the call too recent for its origin to have verified it yet.
 */
function audioMissingAtOrigin(
  call: CallSummary,
  holders: Array<[string, CallSummary]>,
  options: CompareOptions,
): string | undefined {
  if (call.audioSha256 === null) return undefined;
  const oldest = Math.min(...holders.map(([, row]) => row.firstSeenAt.getTime()));
  if (options.now.getTime() - oldest < options.inFlightGraceMs) return undefined;
  const atOrigin = holders.find(([site]) => site === call.originSite)?.[1];
  if (atOrigin !== undefined) {
    return atOrigin.audioState === "present"
      ? undefined
      : `audio ${atOrigin.audioState} at its origin ${call.originSite}: the object there is absent or its bytes do not hash to the event's sha256`;
  }
  return holders.some(([, row]) => row.audioState === "present")
    ? undefined
    : `audio present at none of the audited sites holding the call (its origin ${call.originSite} is not among them)`;
}

/**
 * Compares the calls of several sites. Each call must be at every site that the topology routes it to
 * (filters applied), with the same audio checksum and its audio present; a call at a site it should
 * never reach is reported too, and so is audio that its origin never had, at every site that holds it.
 */
export function compareCalls(
  bySite: Map<string, Map<string, CallSummary>>,
  expectations: Expectations,
  options: CompareOptions,
): Difference[] {
  const differences: Difference[] = [];
  const allIds = new Set<string>();
  for (const calls of bySite.values()) for (const id of calls.keys()) allIds.add(id);
  for (const callId of [...allIds].sort()) {
    const holders = [...bySite].filter(([, calls]) => calls.has(callId));
    const reference =
      holders.find(([site]) => site === holders[0]![1].get(callId)!.originSite) ?? holders[0]!;
    const call = reference[1].get(callId)!;
    const newest = Math.max(...holders.map(([, calls]) => calls.get(callId)!.firstSeenAt.getTime()));
    const missingAtOrigin = audioMissingAtOrigin(
      call,
      holders.map(([site, calls]) => [site, calls.get(callId)!]),
      options,
    );
    for (const [site, calls] of bySite) {
      const row = calls.get(callId);
      const expected = expectations.expectedAt(site, call.originSite, "calls", call.tenantId, call.groupId);
      if (row === undefined) {
        if (!expected) continue;
        const recent = options.now.getTime() - newest < options.inFlightGraceMs;
        differences.push({
          kind: "call",
          id: callId,
          site,
          cause: recent ? "in-flight" : "missing",
          detail: `recorded at ${call.originSite}, absent here`,
        });
        continue;
      }
      if (!expected) {
        differences.push({
          kind: "call",
          id: callId,
          site,
          cause: "unexpected",
          detail: "filtered by the topology, yet present",
        });
        continue;
      }
      if (row.audioSha256 !== call.audioSha256) {
        differences.push({
          kind: "call",
          id: callId,
          site,
          cause: "audio-mismatch",
          detail: `audio sha256 ${row.audioSha256} here, ${call.audioSha256} at ${reference[0]}`,
        });
      } else if (missingAtOrigin !== undefined) {
        differences.push({
          kind: "call",
          id: callId,
          site,
          cause: "audio-missing-at-origin",
          detail: missingAtOrigin,
        });
      } else if (row.audioState === "pending") {
        differences.push({
          kind: "call",
          id: callId,
          site,
          cause: "audio-pending",
          detail: "audio not copied yet",
        });
      } else if (row.audioState === "failed") {
        differences.push({
          kind: "call",
          id: callId,
          site,
          cause: "audio-failed",
          detail: "audio unreachable within the retry budget",
        });
      }
    }
  }
  return differences;
}

/** Users must show the same visible fields at every site that should hold them. */
export function compareUsers(
  bySite: Map<string, Map<string, UserSummary>>,
  expectations: Expectations,
): Difference[] {
  const differences: Difference[] = [];
  const allIds = new Set<string>();
  for (const users of bySite.values()) for (const id of users.keys()) allIds.add(id);
  for (const userId of [...allIds].sort()) {
    const rows = [...bySite].flatMap(([site, users]) =>
      users.has(userId) ? [{ site, row: users.get(userId)! }] : [],
    );
    const { tenantId, groupId } = rows[0]!.row;
    const origins = [...new Set(rows.flatMap((r) => r.row.origins))];
    const expectedSites = [...bySite.keys()].filter((site) =>
      origins.some((origin) => expectations.expectedAt(site, origin, "users", tenantId, groupId)),
    );
    const fingerprints = new Set(
      rows.filter((r) => expectedSites.includes(r.site)).map((r) => r.row.fingerprint),
    );
    for (const site of expectedSites) {
      const row = bySite.get(site)!.get(userId);
      if (row === undefined) {
        differences.push({ kind: "user", id: userId, site, cause: "missing", detail: "absent here" });
      } else if (fingerprints.size > 1) {
        differences.push({
          kind: "user",
          id: userId,
          site,
          cause: row.openConflicts > 0 ? "conflicting" : "diverged",
          detail:
            row.openConflicts > 0 ? `${row.openConflicts} open conflict(s)` : "fields differ between sites",
        });
      }
    }
  }
  return differences;
}

/** Buckets whose digest is not the same at every site: only these are read row by row. */
export function differingBuckets(digests: Array<Map<string, string>>): string[] {
  return BUCKETS.filter((bucket) => new Set(digests.map((d) => d.get(bucket) ?? "")).size > 1);
}
