import type { LinkConfig, Topology } from "@tandem/config";

/**
 * The topology a site's materializer runs with: its own database; the other sites' object stores are
 * reached through the WAN (`reachedFrom`, applied by `tandem run`).
 */
export function materializerTopology(base: Topology, site: string, database: string): Topology {
  return {
    ...base,
    sites: base.sites.map((s) => (s.id === site ? { ...s, postgres: { connectionString: database } } : s)),
  };
}

/** One link alone: run by its own bridge process, so that it can be killed or cut without the others. */
export function linkTopology(base: Topology, link: LinkConfig): Topology {
  return { ...base, links: [link] };
}

/** The topology the audit reads: each site with the database its materializer writes. */
export function auditTopology(base: Topology, databases: Record<string, string>): Topology {
  return {
    ...base,
    sites: base.sites.map((s) => {
      const database = databases[s.id];
      return database === undefined ? s : { ...s, postgres: { connectionString: database } };
    }),
  };
}
