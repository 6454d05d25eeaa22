import type { SiteConfig, Topology } from "./types";

/**
 * The topology as the services of `siteId` must use it: every other site's Kafka, registry and object
 * store at the addresses it declares for `siteId` in `reachedFrom` (credentials and the rest unchanged).
 * The site's own entry is kept as it is, and `reachedFrom` is dropped: it has been applied.
 */
export function topologySeenFrom(topology: Topology, siteId: string): Topology {
  return { ...topology, sites: topology.sites.map((site) => siteSeenFrom(site, siteId)) };
}

function siteSeenFrom(site: SiteConfig, siteId: string): SiteConfig {
  const { reachedFrom, ...rest } = site;
  const addresses = site.id === siteId ? undefined : reachedFrom?.[siteId];
  if (addresses === undefined) return rest;
  const objectStore =
    addresses.objectStore !== undefined && rest.objectStore.kind === "s3"
      ? { ...rest.objectStore, endpoint: addresses.objectStore.endpoint }
      : rest.objectStore;
  return {
    ...rest,
    kafka: addresses.kafka === undefined ? rest.kafka : { ...rest.kafka, brokers: addresses.kafka.brokers },
    registry:
      addresses.registry === undefined ? rest.registry : { ...rest.registry, url: addresses.registry.url },
    objectStore,
  };
}
