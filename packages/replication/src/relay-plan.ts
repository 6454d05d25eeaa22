import type { LinkConfig, Stream } from "@tandem/config";

type PlannedLink = Pick<LinkConfig, "from" | "to" | "streams">;

/**
 * Which link carries an origin's events to each site, so that every site receives each event once even
 * in a mesh: for each origin and stream, the shortest paths over the links that carry the stream (ties
 * broken by site id, the same at every bridge); a link relays an event only if it is the last hop of its
 * target's path. In a mesh the direct link delivers; in a chain A-B-C, B relays A's events to C.
 */
export class RelayPlan {
  private readonly parents = new Map<string, Map<string, string>>();

  constructor(private readonly links: readonly PlannedLink[]) {}

  carries(origin: string, from: string, to: string, stream: Stream): boolean {
    return this.parentsFrom(origin, stream).get(to) === from;
  }

  /** The sites an origin's events pass through to reach `target`, both ends included; undefined if none. */
  pathTo(origin: string, target: string, stream: Stream): string[] | undefined {
    if (origin === target) return [origin];
    const parents = this.parentsFrom(origin, stream);
    if (!parents.has(target)) return undefined;
    const path = [target];
    for (let site = parents.get(target); site !== undefined; site = parents.get(site)) path.unshift(site);
    return path;
  }

  private parentsFrom(origin: string, stream: Stream): Map<string, string> {
    const key = `${origin}\u0000${stream}`;
    const cached = this.parents.get(key);
    if (cached !== undefined) return cached;
    const parents = new Map<string, string>();
    const visited = new Set([origin]);
    let frontier = [origin];
    while (frontier.length > 0) {
      const next: string[] = [];
      for (const site of [...frontier].sort()) {
        const targets = this.links
          .filter((link) => link.from === site && link.streams.includes(stream))
          .map((link) => link.to)
          .sort();
        for (const target of targets) {
          if (visited.has(target)) continue;
          visited.add(target);
          parents.set(target, site);
          next.push(target);
        }
      }
      frontier = next;
    }
    this.parents.set(key, parents);
    return parents;
  }
}
