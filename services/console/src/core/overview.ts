import type { LinkHealth, StatusReport } from "@tandem/operations";

export type LinkState = "running" | "paused by schedule" | "down" | "behind" | "data-lost";

export interface SiteFigures {
  calls: number;
  audioPending: number;
  audioFailed: number;
  users: number;
  openConflicts: number;
  /** See SiteTotals.openConflictsDigest. */
  openConflictsDigest: string;
}

export interface SiteView {
  site: string;
  kafkaReachable: boolean;
  /** Undefined when the site's database could not be read. */
  figures: SiteFigures | undefined;
  dlqRecords: number | undefined;
  recordsLost: number;
}

export interface LinkView {
  link: string;
  from: string;
  to: string;
  state: LinkState;
  why: string;
  schedule: string;
  cap: string | undefined;
  lagRecords: number | undefined;
  /** How old the newest heartbeat delivered through the link is: how far behind the target is in time. */
  lagSeconds: number | undefined;
  lastHeartbeatAt: string | undefined;
  /** The next time one of its streams opens or closes, and which way. */
  nextChange: { at: string; opens: boolean } | undefined;
}

export interface Overview {
  at: string;
  sites: SiteView[];
  links: LinkView[];
}

const STATE_OF: Record<LinkHealth, LinkState> = {
  ok: "running",
  paused: "paused by schedule",
  down: "down",
  behind: "behind",
  "data-lost": "data-lost",
};

export function linkState(health: LinkHealth): LinkState {
  return STATE_OF[health];
}

/** What the overview shows, from what `tandem status` collects and each site's database figures. */
export function overviewOf(
  status: StatusReport,
  figures: ReadonlyMap<string, SiteFigures | undefined>,
): Overview {
  return {
    at: status.at,
    sites: status.sites.map((site) => ({
      site: site.site,
      kafkaReachable: site.kafkaReachable,
      figures: figures.get(site.site),
      dlqRecords: site.dlqRecords,
      recordsLost: site.gaps.reduce((sum, gap) => sum + gap.count, 0),
    })),
    links: status.links.map((link) => {
      const [from, to] = link.link.split("->") as [string, string];
      const next = link.streams
        .filter((s) => s.nextChange !== undefined)
        .sort((a, b) => a.nextChange!.localeCompare(b.nextChange!))[0];
      return {
        link: link.link,
        from,
        to,
        state: linkState(link.health),
        why: link.why,
        schedule: link.schedule,
        cap: link.cap,
        lagRecords: link.lagRecords,
        lagSeconds: link.heartbeatAgeSeconds === undefined ? undefined : Math.round(link.heartbeatAgeSeconds),
        lastHeartbeatAt: link.lastHeartbeatAt,
        nextChange: next === undefined ? undefined : { at: next.nextChange!, opens: !next.open },
      };
    }),
  };
}
