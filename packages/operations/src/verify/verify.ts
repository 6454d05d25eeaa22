import type { Topology } from "@tandem/config";
import {
  BUCKETS,
  callBucketDigests,
  callsAwaitingOwnAudio,
  callsById,
  callsInBuckets,
  countCalls,
  countUsers,
  createPool,
  userBucketDigests,
  usersInBuckets,
} from "@tandem/materializer";
import { compareCalls, compareUsers, differingBuckets, type Difference } from "./compare";
import { Expectations } from "./expected";

export interface VerifyReport {
  sites: string[];
  calls: Record<string, number>;
  users: Record<string, number>;
  bucketsCompared: number;
  bucketsRead: number;
  differences: Difference[];
  consistent: boolean;
}

/** Differences that are expected to clear by themselves; anything else makes the sites inconsistent. */
const TRANSIENT = new Set(["in-flight", "audio-pending"]);

/**
 * Anti-entropy audit of several sites' databases: compares calls, audio checksums and users, modulo the
 * topology's filters, and finds audio that no site can copy because its origin does not have it. Consistent means no difference at all, transient ones included, unless
 * `allowInFlight` is set.
 */
export async function verifySites(
  topology: Topology,
  siteIds: string[],
  options: { now?: Date; inFlightGraceMs?: number; allowInFlight?: boolean; tenants?: string[] } = {},
): Promise<VerifyReport> {
  const pools = new Map(
    siteIds.map((id) => {
      const site = topology.sites.find((s) => s.id === id);
      if (site === undefined) throw new Error(`site "${id}" is not in the topology`);
      // A one-shot audit waits for a busy server rather than failing the run after the default 5 s.
      return [id, createPool(site.postgres, 2, 30_000)];
    }),
  );
  try {
    const expectations = new Expectations(topology);
    const { tenants } = options;
    const callDigests = await Promise.all(
      [...pools.values()].map((pool) => callBucketDigests(pool, tenants)),
    );
    const userDigests = await Promise.all(
      [...pools.values()].map((pool) => userBucketDigests(pool, tenants)),
    );
    const callBuckets = differingBuckets(callDigests);
    const userBuckets = differingBuckets(userDigests);
    const callsBySite = new Map<string, Awaited<ReturnType<typeof callsInBuckets>>>();
    const usersBySite = new Map<string, Awaited<ReturnType<typeof usersInBuckets>>>();
    const calls: Record<string, number> = {};
    const users: Record<string, number> = {};
    // Audio that its origin lacks is pending alike at every site, so the digests agree: such calls are
    // read by id, wherever they are, besides the differing buckets.
    const awaiting = new Set<string>();
    for (const [id, pool] of pools) {
      for (const callId of await callsAwaitingOwnAudio(pool, id, siteIds, tenants)) {
        if (!callBuckets.includes(callId[0]!)) awaiting.add(callId);
      }
    }
    for (const [id, pool] of pools) {
      const rows = await callsInBuckets(pool, callBuckets, tenants);
      for (const [callId, row] of await callsById(pool, [...awaiting], tenants)) rows.set(callId, row);
      callsBySite.set(id, rows);
      usersBySite.set(id, await usersInBuckets(pool, userBuckets, tenants));
      calls[id] = await countCalls(pool, tenants);
      users[id] = await countUsers(pool, tenants);
    }
    const differences = [
      ...compareCalls(callsBySite, expectations, {
        now: options.now ?? new Date(),
        inFlightGraceMs: options.inFlightGraceMs ?? 30_000,
      }),
      ...compareUsers(usersBySite, expectations),
    ];
    const blocking = differences.filter((d) => !(options.allowInFlight && TRANSIENT.has(d.cause)));
    return {
      sites: siteIds,
      calls,
      users,
      bucketsCompared: 2 * BUCKETS.length,
      bucketsRead: callBuckets.length + userBuckets.length,
      differences,
      consistent: blocking.length === 0,
    };
  } finally {
    await Promise.all([...pools.values()].map((pool) => pool.end()));
  }
}
