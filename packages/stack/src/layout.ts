import path from "node:path";
import type { WanLayout } from "./wan";

export const SITE_ID_PATTERN = /^[a-z][a-z0-9-]{1,30}$/;

export type ServerKind = "postgres" | "kafka" | "s3" | "registry";
export const SERVER_KINDS: readonly ServerKind[] = ["postgres", "kafka", "s3", "registry"];

export interface SitePorts {
  kafka: number;
  kafkaController: number;
  registry: number;
  postgres: number;
  s3: number;
  /** Secure mode only: the brokers' PLAINTEXT listener for inter-broker traffic, on loopback. */
  kafkaInternal: number;
}

/** Each site takes a block of ten ports from the base port, in the order the sites were given. */
export const PORTS_PER_SITE = 10;

export function sitePorts(basePort: number, siteIndex: number): SitePorts {
  const first = basePort + siteIndex * PORTS_PER_SITE;
  return {
    kafka: first,
    kafkaController: first + 1,
    registry: first + 2,
    postgres: first + 3,
    s3: first + 4,
    kafkaInternal: first + 5,
  };
}

export interface StackLayout {
  dataDir: string;
  basePort: number;
  sites: string[];
  /** Kafka clients must use TLS and SASL/SCRAM; absent in stacks written before secure mode existed. */
  secure?: boolean;
  /** Toxiproxy between the sites; absent for none. */
  wan?: WanLayout;
  /** The servers' jars and Toxiproxy, shared by the stacks that name the same; absent for `<dataDir>/cache`. */
  cacheDir?: string;
}

/** Where the stack keeps the servers it downloads and builds. */
export function cacheDirOf(layout: Pick<StackLayout, "dataDir" | "cacheDir">): string {
  return layout.cacheDir ?? path.join(layout.dataDir, "cache");
}

export function siteDir(dataDir: string, site: string): string {
  return path.join(dataDir, "sites", site);
}

export function serverDir(dataDir: string, site: string, kind: ServerKind): string {
  return path.join(siteDir(dataDir, site), kind);
}

/** Where a server's output goes, in its directory. */
export const SERVER_LOG = "server.log";

export function serverLogFile(dataDir: string, site: string, kind: ServerKind): string {
  return path.join(serverDir(dataDir, site, kind), SERVER_LOG);
}

/** The stack's certificate authority, shared by every site so that one CA file lets a client reach all. */
export function tlsDir(dataDir: string): string {
  return path.join(dataDir, "tls");
}

export function caCertificateFile(dataDir: string): string {
  return path.join(tlsDir(dataDir), "ca.pem");
}

export function bucketName(site: string): string {
  return `tandem-${site}`;
}

export function validateSites(sites: string[]): string[] {
  if (sites.length === 0) throw new Error("no sites given: pass at least one site id, e.g. --sites nyc,lon");
  const seen = new Set<string>();
  for (const site of sites) {
    if (!SITE_ID_PATTERN.test(site)) {
      throw new Error(
        `site id "${site}" is invalid: use 2-31 lowercase letters, digits or '-', starting with a letter`,
      );
    }
    if (seen.has(site)) throw new Error(`site id "${site}" is given twice`);
    seen.add(site);
  }
  return sites;
}
