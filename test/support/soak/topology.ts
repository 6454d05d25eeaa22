import type { LinkConfig, Topology } from "@tandem/config";

/**
 * The topology a site's materializer runs with: its own database, and every other site's object store
 * reached through the proxy that plays the path between the two sites (`storeVia(owner, reader)`).
 */
export function materializerTopology(
  base: Topology,
  site: string,
  database: string,
  storeVia: (owner: string, reader: string) => string,
): Topology {
  return {
    ...base,
    sites: base.sites.map((s) => {
      if (s.id === site) return { ...s, postgres: { connectionString: database } };
      if (s.objectStore.kind !== "s3" || s.objectStore.endpoint === undefined) return s;
      return { ...s, objectStore: { ...s.objectStore, endpoint: `http://${storeVia(s.id, site)}` } };
    }),
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
