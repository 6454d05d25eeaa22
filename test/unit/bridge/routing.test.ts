import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LinkConfig, LinkFilters } from "@tandem/config";
import { route, sourceTopics } from "../../../services/bridge/src/core/routing";
import type { RoutingHeaders } from "../../../services/bridge/src/core/routing";

const TENANT = "3f2c9a1e-8b7d-4c6a-9e5f-1a2b3c4d5e6f";
const OTHER_TENANT = "7b0c6a4e-2f1d-4c3b-9a8e-5d6f7e8a9b0c";
const GROUP = "0d3b8f4e-1a2b-4c3d-8e9f-a0b1c2d3e4f5";
const noFilters: LinkFilters = { tenants: { deny: [] }, groups: { deny: [] } };

function link(from: string, to: string, overrides: Partial<LinkConfig> = {}): LinkConfig {
  return {
    from,
    to,
    streams: ["calls", "users"],
    filters: noFilters,
    schedule: { kind: "continuous" },
    delivery: "at-least-once",
    ...overrides,
  };
}

const fromNyc: RoutingHeaders = { origin: "nyc", path: ["nyc"], tenantId: TENANT, groupId: GROUP };

describe("route", () => {
  it("forwards a local event to <origin>.<topic>; the path gains the target", () => {
    expect(route(link("nyc", "lon"), "calls.completed", fromNyc)).toEqual({
      action: "forward",
      targetTopic: "nyc.calls.completed",
      headers: { origin: "nyc", path: ["nyc", "lon"], tenantId: TENANT, groupId: GROUP },
    });
  });

  it("adds the source site to a path that lacks it, and starts an empty path with the origin", () => {
    expect(route(link("lon", "sgp"), "nyc.users.changed", { origin: "nyc", path: ["nyc"] })).toMatchObject({
      action: "forward",
      headers: { path: ["nyc", "lon", "sgp"] },
    });
    expect(route(link("nyc", "lon"), "users.changed", { origin: "nyc", path: [] })).toMatchObject({
      action: "forward",
      headers: { path: ["nyc", "lon"] },
    });
  });

  it("passes the other headers through unchanged", () => {
    const headers = { ...fromNyc, eventId: "0b7e7dc3-3c1a-4c3b-9d4e-2f1a0b9c8d7e" };
    const decision = route(link("nyc", "lon"), "calls.completed", headers);
    expect(decision.action === "forward" && decision.headers.eventId).toBe(headers.eventId);
  });

  it("keeps the origin's name over several hops (A->B->C lands as A.calls.completed)", () => {
    const atLon = { origin: "nyc", path: ["nyc", "lon"], tenantId: TENANT, groupId: GROUP };
    expect(route(link("lon", "sgp"), "nyc.calls.completed", atLon)).toEqual({
      action: "forward",
      targetTopic: "nyc.calls.completed",
      headers: { origin: "nyc", path: ["nyc", "lon", "sgp"], tenantId: TENANT, groupId: GROUP },
    });
  });

  it("never sends an event back to its origin", () => {
    const atLon = { origin: "nyc", path: ["nyc", "lon"] };
    expect(route(link("lon", "nyc"), "nyc.calls.completed", atLon)).toEqual({
      action: "skip",
      reason: "cycle",
    });
    // Even if the path lost the origin.
    expect(route(link("lon", "nyc"), "nyc.calls.completed", { origin: "nyc", path: ["lon"] })).toEqual({
      action: "skip",
      reason: "cycle",
    });
  });

  it("never sends an event to a site on its path", () => {
    const atSgp = { origin: "nyc", path: ["nyc", "lon", "sgp"] };
    expect(route(link("sgp", "lon"), "nyc.users.changed", atSgp)).toEqual({
      action: "skip",
      reason: "cycle",
    });
  });

  it("falls back to the topic name when the origin header is missing", () => {
    expect(route(link("nyc", "lon"), "calls.completed", { path: [] })).toMatchObject({
      action: "forward",
      targetTopic: "nyc.calls.completed",
      headers: { origin: "nyc", path: ["nyc", "lon"] },
    });
    expect(route(link("lon", "sgp"), "nyc.calls.completed", { path: [] })).toMatchObject({
      action: "forward",
      targetTopic: "nyc.calls.completed",
      headers: { origin: "nyc", path: ["nyc", "lon", "sgp"] },
    });
    expect(route(link("lon", "nyc"), "nyc.calls.completed", { path: [] })).toEqual({
      action: "skip",
      reason: "cycle",
    });
  });

  it("skips internal topics and streams the link does not carry", () => {
    expect(route(link("nyc", "lon"), "tandem.heartbeats", fromNyc)).toEqual({
      action: "skip",
      reason: "internal-topic",
    });
    expect(route(link("nyc", "lon", { streams: ["users"] }), "calls.completed", fromNyc)).toEqual({
      action: "skip",
      reason: "stream-not-replicated",
    });
    expect(route(link("lon", "sgp", { streams: ["calls"] }), "nyc.users.changed", fromNyc)).toEqual({
      action: "skip",
      reason: "stream-not-replicated",
    });
    expect(route(link("nyc", "lon"), "orders", fromNyc)).toEqual({
      action: "skip",
      reason: "stream-not-replicated",
    });
  });

  it("applies tenant and group filters, and drops events without the header on a filtered link", () => {
    const denyTenant = link("nyc", "lon", { filters: { tenants: { deny: [TENANT] }, groups: { deny: [] } } });
    expect(route(denyTenant, "calls.completed", fromNyc)).toEqual({
      action: "skip",
      reason: "filtered-tenant",
    });
    expect(route(denyTenant, "calls.completed", { ...fromNyc, tenantId: OTHER_TENANT })).toMatchObject({
      action: "forward",
    });
    expect(route(denyTenant, "calls.completed", { origin: "nyc", path: ["nyc"], groupId: GROUP })).toEqual({
      action: "skip",
      reason: "filtered-tenant",
    });

    const allowGroup = link("nyc", "lon", {
      filters: { tenants: { deny: [] }, groups: { allow: [GROUP], deny: [] } },
    });
    expect(route(allowGroup, "calls.completed", fromNyc)).toMatchObject({ action: "forward" });
    expect(route(allowGroup, "calls.completed", { ...fromNyc, groupId: TENANT })).toEqual({
      action: "skip",
      reason: "filtered-group",
    });
  });

  it("checks for cycles before filters", () => {
    const filtered = link("lon", "nyc", { filters: { tenants: { deny: [TENANT] }, groups: { deny: [] } } });
    expect(route(filtered, "nyc.calls.completed", { ...fromNyc, path: ["nyc", "lon"] })).toEqual({
      action: "skip",
      reason: "cycle",
    });
  });
});

describe("sourceTopics", () => {
  const existing = [
    "calls.completed",
    "users.changed",
    "nyc.calls.completed",
    "nyc.users.changed",
    "sgp.calls.completed",
    "sgp.users.changed",
    "lon.calls.completed",
    "tandem.heartbeats",
    "tandem.dlq",
    "orders",
  ];

  it("consumes the local topics and the remote topics of other origins", () => {
    expect(sourceTopics(link("lon", "nyc"), existing)).toEqual([
      "calls.completed",
      "users.changed",
      "sgp.calls.completed",
      "sgp.users.changed",
    ]);
  });

  it("consumes only the selected streams", () => {
    expect(sourceTopics(link("lon", "par", { streams: ["calls"] }), existing)).toEqual([
      "calls.completed",
      "nyc.calls.completed",
      "sgp.calls.completed",
    ]);
  });

  it("includes the local topics even before they exist", () => {
    expect(sourceTopics(link("lon", "nyc", { streams: ["users"] }), [])).toEqual(["users.changed"]);
  });
});

describe("routing in a mesh", () => {
  /** Floods one event from `origin` over every link, as the bridges would, and returns what each site got. */
  function flood(sites: string[], links: LinkConfig[], origin: string) {
    const topicsAt = new Map(sites.map((s) => [s, new Set(["calls.completed", "users.changed"])]));
    const received = new Map<string, { topic: string; headers: RoutingHeaders }[]>();
    const queue = [
      { site: origin, topic: "calls.completed", headers: { origin, path: [origin] } as RoutingHeaders },
    ];
    let steps = 0;
    while (queue.length > 0) {
      const { site, topic, headers } = queue.shift()!;
      if (++steps > 10_000) throw new Error("the event keeps travelling: a cycle");
      for (const l of links.filter((candidate) => candidate.from === site)) {
        if (!sourceTopics(l, [...topicsAt.get(site)!]).includes(topic)) continue;
        const decision = route(l, topic, headers);
        if (decision.action === "skip") continue;
        topicsAt.get(l.to)!.add(decision.targetTopic);
        received.set(l.to, [
          ...(received.get(l.to) ?? []),
          { topic: decision.targetTopic, headers: decision.headers },
        ]);
        queue.push({ site: l.to, topic: decision.targetTopic, headers: decision.headers });
      }
    }
    return received;
  }

  function reachable(links: LinkConfig[], origin: string): Set<string> {
    const seen = new Set([origin]);
    const stack = [origin];
    while (stack.length > 0) {
      const site = stack.pop()!;
      for (const l of links) {
        if (l.from === site && !seen.has(l.to)) {
          seen.add(l.to);
          stack.push(l.to);
        }
      }
    }
    seen.delete(origin);
    return seen;
  }

  it("reaches every reachable site under <origin>.<topic>, never returns to the origin, and terminates", () => {
    const arbitraryMesh = fc.integer({ min: 2, max: 5 }).chain((n) => {
      const sites = ["aa", "bb", "cc", "dd", "ee"].slice(0, n);
      const pairs = sites.flatMap((from) =>
        sites.filter((to) => to !== from).map((to) => [from, to] as const),
      );
      return fc.tuple(fc.constant(sites), fc.subarray(pairs), fc.constantFrom(...sites));
    });
    fc.assert(
      fc.property(arbitraryMesh, ([sites, pairs, origin]) => {
        const links = pairs.map(([from, to]) => link(from, to));
        const received = flood(sites, links, origin);
        expect(new Set(received.keys())).toEqual(reachable(links, origin));
        expect(received.has(origin)).toBe(false);
        for (const [site, deliveries] of received) {
          for (const { topic, headers } of deliveries) {
            expect(topic).toBe(`${origin}.calls.completed`);
            expect(headers.origin).toBe(origin);
            // "Sites written to": starts at the origin, ends here, never repeats a site.
            expect(headers.path[0]).toBe(origin);
            expect(headers.path.at(-1)).toBe(site);
            expect(new Set(headers.path).size).toBe(headers.path.length);
          }
        }
      }),
    );
  });
});
