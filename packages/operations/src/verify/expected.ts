import type { Stream, Topology } from "@tandem/config";
import { applyFilters } from "@tandem/bridge";
import { RelayPlan } from "@tandem/replication";

/**
 * Whether a site should hold an event of `origin` for this tenant and group: true when the route the
 * bridges take from the origin reaches the site and every link on it admits the tenant and group.
 */
export class Expectations {
  private readonly plan: RelayPlan;

  constructor(private readonly topology: Topology) {
    this.plan = new RelayPlan(topology.links);
  }

  expectedAt(site: string, origin: string, stream: Stream, tenantId: string, groupId: string): boolean {
    return this.routeTo(site, origin, stream, tenantId, groupId) !== undefined;
  }

  /**
   * The sites an event of `origin` passes through to reach `site` (both ends included), when every link
   * on that route admits the tenant and group; undefined when the site should not hold it.
   */
  routeTo(
    site: string,
    origin: string,
    stream: Stream,
    tenantId: string,
    groupId: string,
  ): string[] | undefined {
    const path = this.plan.pathTo(origin, site, stream);
    if (path === undefined) return undefined;
    for (let hop = 1; hop < path.length; hop++) {
      const link = this.topology.links.find((l) => l.from === path[hop - 1] && l.to === path[hop]);
      if (link === undefined || applyFilters(link.filters, tenantId, groupId) !== "pass") return undefined;
    }
    return path;
  }

  /** Whether the bridges carry any event of `stream` from one site to another (filters aside). */
  reaches(from: string, to: string, stream: Stream): boolean {
    return from !== to && this.plan.pathTo(from, to, stream) !== undefined;
  }
}
