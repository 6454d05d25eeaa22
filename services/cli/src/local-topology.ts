import fs from "node:fs";
import YAML from "yaml";
import {
  parseTopology,
  type KafkaConfig,
  type LinkConfig,
  type MergePolicy,
  type SiteConfig,
  type Topology,
} from "@tandem/config";
import type { SiteEndpoints, StackEndpoints } from "@tandem/stack";

/** How to reach a site's Kafka: TLS trusting the stack's CA and SCRAM credentials when it runs secure. */
export function kafkaConfigOf(site: SiteEndpoints): KafkaConfig {
  const { brokers, ssl, sasl } = site.kafka;
  return {
    brokers,
    ...(ssl === undefined ? {} : { ssl: { ca: ssl.ca } }),
    ...(sasl === undefined ? {} : { sasl: { ...sasl } }),
  };
}

/**
 * A site's entry; with `among` (the topology's site ids), also how those other sites reach it over the
 * stack's WAN, when it has one.
 */
export function siteConfigOf(
  site: SiteEndpoints,
  mergePolicy: MergePolicy = { kind: "lww" },
  among: readonly string[] = [],
): SiteConfig {
  const { accessKeyId, secretAccessKey, endpoint, region, bucket } = site.objectStore;
  const reachedFrom = Object.entries(site.reachedFrom ?? {}).filter(([from]) => among.includes(from));
  return {
    id: site.site,
    kafka: kafkaConfigOf(site),
    registry: { url: site.registry.url },
    postgres: { connectionString: site.postgres.connectionString },
    objectStore: { kind: "s3", endpoint, region, bucket, accessKeyId, secretAccessKey, forcePathStyle: true },
    mergePolicy,
    ...(reachedFrom.length === 0 ? {} : { reachedFrom: Object.fromEntries(reachedFrom) }),
  };
}

export function continuousLink(from: string, to: string, overrides: Partial<LinkConfig> = {}): LinkConfig {
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

/** Every site linked both ways with every other: the demo's topology. */
export function meshLinks(sites: string[], overrides: Partial<LinkConfig> = {}): LinkConfig[] {
  return sites.flatMap((from) =>
    sites.filter((to) => to !== from).map((to) => continuousLink(from, to, overrides)),
  );
}

export function localTopology(
  endpoints: StackEndpoints,
  links: LinkConfig[],
  mergePolicy?: MergePolicy,
): Topology {
  const ids = endpoints.sites.map((site) => site.site);
  return { sites: endpoints.sites.map((site) => siteConfigOf(site, mergePolicy, ids)), links };
}

/**
 * Writes a topology file for the local stack. It holds the stack's generated credentials, so only its
 * owner can read it; it is parsed back before use, so it is always a file `tandem run` accepts.
 */
export function writeTopologyFile(file: string, topology: Topology): void {
  const text = YAML.stringify(topology);
  parseTopology(text, { env: {}, sourceName: file });
  fs.writeFileSync(file, text, { mode: 0o600 });
}
