import type { LinkConfig, MergePolicy, Topology } from "@tandem/config";
import type { SiteEndpoints } from "@tandem/stack";
import { continuousLink, siteConfigOf } from "../../services/cli/src/local-topology";

export { writeTopologyFile } from "../../services/cli/src/local-topology";
export const siteConfig = siteConfigOf;
export const link = continuousLink;

export function twoWay(a: string, b: string, overrides: Partial<LinkConfig> = {}): LinkConfig[] {
  return [link(a, b, overrides), link(b, a, overrides)];
}

export function topologyOf(sites: SiteEndpoints[], links: LinkConfig[], mergePolicy?: MergePolicy): Topology {
  return { sites: sites.map((s) => siteConfig(s, mergePolicy)), links };
}
