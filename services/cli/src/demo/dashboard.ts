import type { LinkStatus } from "@tandem/bridge";

export interface SiteFigures {
  site: string;
  recorded: number;
  userChanges: number;
  audioBytes: number;
  localCalls: number;
  remoteCalls: number;
  /** Calls of this site held by the other sites. */
  replicatedOut: number;
  audioPending: number;
  users: number;
  conflictsOpen: number;
}

export interface DemoSnapshot {
  elapsedMs: number;
  phase: string;
  sites: SiteFigures[];
  links: LinkStatus[];
}

const pad = (value: string | number, width: number) => String(value).padStart(width);

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

/** The live view of the demo: one row per site, one per link. */
export function formatDashboard(snapshot: DemoSnapshot): string[] {
  const lines = [
    `tandem demo: ${snapshot.phase}, ${(snapshot.elapsedMs / 1000).toFixed(0)}s`,
    "site   recorded  audio      calls(local+remote)  replicated-out  audio-pending  users  conflicts",
  ];
  for (const s of snapshot.sites) {
    lines.push(
      `${s.site.padEnd(6)} ${pad(s.recorded, 8)}  ${megabytes(s.audioBytes).padStart(9)}  ` +
        `${pad(s.localCalls + s.remoteCalls, 6)} (${s.localCalls}+${s.remoteCalls})`.padEnd(21) +
        `  ${pad(s.replicatedOut, 14)}  ${pad(s.audioPending, 13)}  ${pad(s.users, 5)}  ${pad(s.conflictsOpen, 9)}`,
    );
  }
  lines.push("link        state     lag(records)  last forwarded");
  for (const link of snapshot.links) {
    const last = link.lastForwardedAt ? `${link.lastForwardedAt.slice(11, 19)}Z` : "-";
    lines.push(`${link.link.padEnd(11)} ${link.state.padEnd(9)} ${pad(link.lagRecords, 12)}  ${last}`);
  }
  return lines;
}
