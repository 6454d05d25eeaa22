import type pg from "pg";
import { siteTotals, type SiteTotals } from "@tandem/materializer";
import type { SiteFigures } from "./dashboard";

interface RecorderCounters {
  calls: number;
  userChanges: number;
  audioBytes: number;
}

/** What each site's database holds now, with what its recorder produced. */
export async function siteFigures(
  pools: Map<string, pg.Pool>,
  recorded: Map<string, RecorderCounters>,
): Promise<SiteFigures[]> {
  const bySite = new Map<string, SiteTotals>();
  for (const [site, pool] of pools) bySite.set(site, await siteTotals(pool));
  return [...bySite].map(([site, db]) => {
    const counters = recorded.get(site) ?? { calls: 0, userChanges: 0, audioBytes: 0 };
    const remoteCalls = [...db.callsByOrigin]
      .filter(([origin]) => origin !== site)
      .reduce((sum, [, n]) => sum + n, 0);
    const replicatedOut = [...bySite]
      .filter(([other]) => other !== site)
      .reduce((sum, [, other]) => sum + (other.callsByOrigin.get(site) ?? 0), 0);
    return {
      site,
      recorded: counters.calls,
      userChanges: counters.userChanges,
      audioBytes: counters.audioBytes,
      localCalls: db.callsByOrigin.get(site) ?? 0,
      remoteCalls,
      replicatedOut,
      audioPending: db.audioPending,
      users: db.users,
      conflictsOpen: db.openConflicts,
    };
  });
}
