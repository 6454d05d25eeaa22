import type { LinkConfig, MergePolicy, SiteConfig, Topology } from "@tandem/config";
import type { SiteEndpoints } from "@tandem/stack";

export function siteConfig(site: SiteEndpoints, mergePolicy: MergePolicy = { kind: "lww" }): SiteConfig {
  const { accessKeyId, secretAccessKey, endpoint, region, bucket } = site.objectStore;
  return {
    id: site.site,
    kafka: { brokers: site.kafka.brokers },
    registry: { url: site.registry.url },
    postgres: { connectionString: site.postgres.connectionString },
    objectStore: { kind: "s3", endpoint, region, bucket, accessKeyId, secretAccessKey, forcePathStyle: true },
    mergePolicy,
  };
}

export function link(from: string, to: string, overrides: Partial<LinkConfig> = {}): LinkConfig {
  return {
    from,
    to,
    streams: ["calls", "users"],
    filters: { tenants: { deny: [] }, groups: { deny: [] } },
    schedule: { kind: "continuous" },
    delivery: "at-least-once",
    ...overrides,
  };
}

export function twoWay(a: string, b: string, overrides: Partial<LinkConfig> = {}): LinkConfig[] {
  return [link(a, b, overrides), link(b, a, overrides)];
}

export function topologyOf(sites: SiteEndpoints[], links: LinkConfig[], mergePolicy?: MergePolicy): Topology {
  return { sites: sites.map((s) => siteConfig(s, mergePolicy)), links };
}
