import type pg from "pg";
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
  const bySite = new Map<
    string,
    { origins: Map<string, number>; pending: number; users: number; conflicts: number }
  >();
  for (const [site, pool] of pools) {
    const origins = await pool.query<{ origin_site: string; n: string }>(
      "SELECT origin_site, count(*) AS n FROM calls GROUP BY origin_site",
    );
    const counts = await pool.query<{ pending: string; users: string; conflicts: string }>(
      `SELECT (SELECT count(*) FROM calls WHERE audio_state = 'pending') AS pending,
              (SELECT count(*) FROM users WHERE NOT deleted) AS users,
              (SELECT count(*) FROM conflicts WHERE status = 'open') AS conflicts`,
    );
    const row = counts.rows[0]!;
    bySite.set(site, {
      origins: new Map(origins.rows.map((r) => [r.origin_site, Number(r.n)])),
      pending: Number(row.pending),
      users: Number(row.users),
      conflicts: Number(row.conflicts),
    });
  }
  return [...bySite].map(([site, db]) => {
    const counters = recorded.get(site) ?? { calls: 0, userChanges: 0, audioBytes: 0 };
    const remoteCalls = [...db.origins]
      .filter(([origin]) => origin !== site)
      .reduce((sum, [, n]) => sum + n, 0);
    const replicatedOut = [...bySite]
      .filter(([other]) => other !== site)
      .reduce((sum, [, other]) => sum + (other.origins.get(site) ?? 0), 0);
    return {
      site,
      recorded: counters.calls,
      userChanges: counters.userChanges,
      audioBytes: counters.audioBytes,
      localCalls: db.origins.get(site) ?? 0,
      remoteCalls,
      replicatedOut,
      audioPending: db.pending,
      users: db.users,
      conflictsOpen: db.conflicts,
    };
  });
}
