import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Topology } from "@tandem/config";
import { compareCalls, compareUsers, differingBuckets, Expectations } from "@tandem/operations";
import {
  BUCKETS,
  type CallSummary as CallRow,
  type UserSummary as UserRow,
} from "../../../services/materializer/src/queries";
import { callSummary } from "../../support/call-summaries";
import { link, twoWay } from "../../support/topology";

const site = (id: string) => ({ id }) as Topology["sites"][number];
const now = new Date("2026-11-25T12:00:00Z");
const options = { now, inFlightGraceMs: 30_000 };

const call = (overrides: Partial<CallRow> = {}) => callSummary(now, overrides);

const sitesOf = (entries: Record<string, CallRow[]>) =>
  new Map(Object.entries(entries).map(([id, rows]) => [id, new Map(rows.map((r) => [r.callId, r]))]));

describe("verify: comparing calls", () => {
  const twoSites: Topology = { sites: [site("nyc"), site("lon")], links: twoWay("nyc", "lon") };

  it("finds nothing when every site holds every call with the same audio", () => {
    const c = call();
    expect(compareCalls(sitesOf({ nyc: [c], lon: [c] }), new Expectations(twoSites), options)).toEqual([]);
  });

  it("reports a call absent at a site as missing, or in flight when it is recent", () => {
    const old = call();
    const recent = call({ firstSeenAt: new Date(now.getTime() - 5_000) });
    const differences = compareCalls(
      sitesOf({ nyc: [old, recent], lon: [] }),
      new Expectations(twoSites),
      options,
    );
    expect(differences.map((d) => [d.id, d.site, d.cause])).toEqual(
      [
        [old.callId, "lon", "missing"],
        [recent.callId, "lon", "in-flight"],
      ].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );
  });

  it("does not expect a call a link filters out, and reports one that got through anyway", () => {
    const denied = randomUUID();
    const topology: Topology = {
      sites: [site("nyc"), site("lon")],
      links: [link("nyc", "lon", { filters: { tenants: { deny: [denied] }, groups: { deny: [] } } })],
    };
    const filtered = call({ tenantId: denied });
    expect(compareCalls(sitesOf({ nyc: [filtered], lon: [] }), new Expectations(topology), options)).toEqual(
      [],
    );
    expect(
      compareCalls(sitesOf({ nyc: [filtered], lon: [filtered] }), new Expectations(topology), options).map(
        (d) => d.cause,
      ),
    ).toEqual(["unexpected"]);
  });

  it("reports audio that is pending, failed or different", () => {
    const pending = call();
    const failed = call();
    const other = call();
    const differences = compareCalls(
      sitesOf({
        nyc: [pending, failed, other],
        lon: [
          { ...pending, audioState: "pending" },
          { ...failed, audioState: "failed" },
          { ...other, audioSha256: "b".repeat(64) },
        ],
      }),
      new Expectations(twoSites),
      options,
    );
    expect(new Map(differences.map((d) => [d.id, d.cause]))).toEqual(
      new Map([
        [pending.callId, "audio-pending"],
        [failed.callId, "audio-failed"],
        [other.callId, "audio-mismatch"],
      ]),
    );
  });

  it("reports audio its origin does not hold at every site that holds the call, once past the grace", () => {
    const nowhere = call({ audioState: "pending" });
    const failedAtOrigin = call({ audioState: "failed" });
    const copying = call();
    const recent = call({ audioState: "pending", firstSeenAt: new Date(now.getTime() - 5_000) });
    const differences = compareCalls(
      sitesOf({
        nyc: [nowhere, failedAtOrigin, copying, recent],
        lon: [
          nowhere,
          { ...failedAtOrigin, audioState: "pending" },
          { ...copying, audioState: "pending" },
          recent,
        ],
      }),
      new Expectations(twoSites),
      options,
    );
    expect(differences.map((d) => [d.id, d.site, d.cause])).toEqual(
      [
        [nowhere.callId, "nyc", "audio-missing-at-origin"],
        [nowhere.callId, "lon", "audio-missing-at-origin"],
        [failedAtOrigin.callId, "nyc", "audio-missing-at-origin"],
        [failedAtOrigin.callId, "lon", "audio-missing-at-origin"],
        [copying.callId, "lon", "audio-pending"],
        [recent.callId, "nyc", "audio-pending"],
        [recent.callId, "lon", "audio-pending"],
      ].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );
    expect(differences.find((d) => d.id === nowhere.callId)?.detail).toMatch(/pending at its origin nyc/);
  });

  it("without the origin audited, reports audio that no audited site holds", () => {
    const nowhere = call({ audioState: "pending" });
    const copied = call({ audioState: "present" });
    const threeSites: Topology = {
      sites: [site("nyc"), site("lon"), site("sfo")],
      links: [...twoWay("nyc", "lon"), ...twoWay("nyc", "sfo")],
    };
    const differences = compareCalls(
      sitesOf({ lon: [nowhere, copied], sfo: [nowhere, { ...copied, audioState: "pending" }] }),
      new Expectations(threeSites),
      options,
    );
    expect(differences.map((d) => [d.id, d.site, d.cause])).toEqual(
      [
        [nowhere.callId, "lon", "audio-missing-at-origin"],
        [nowhere.callId, "sfo", "audio-missing-at-origin"],
        [copied.callId, "sfo", "audio-pending"],
      ].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );
  });

  it("follows a chain: the far end expects the origin's calls", () => {
    const chain: Topology = {
      sites: [site("nyc"), site("lon"), site("sfo")],
      links: [...twoWay("nyc", "lon"), ...twoWay("lon", "sfo")],
    };
    const c = call();
    const differences = compareCalls(
      sitesOf({ nyc: [c], lon: [c], sfo: [] }),
      new Expectations(chain),
      options,
    );
    expect(differences.map((d) => [d.site, d.cause])).toEqual([["sfo", "missing"]]);
  });
});

describe("verify: comparing users", () => {
  const twoSites: Topology = { sites: [site("nyc"), site("lon")], links: twoWay("nyc", "lon") };
  const user = (overrides: Partial<UserRow> = {}): UserRow => ({
    userId: randomUUID(),
    tenantId: randomUUID(),
    groupId: randomUUID(),
    fingerprint: "f1",
    openConflicts: 0,
    origins: ["nyc"],
    ...overrides,
  });
  const usersOf = (entries: Record<string, UserRow[]>) =>
    new Map(Object.entries(entries).map(([id, rows]) => [id, new Map(rows.map((r) => [r.userId, r]))]));

  it("names a user whose fields differ as conflicting when a conflict is open, else diverged", () => {
    const u = user();
    expect(
      compareUsers(
        usersOf({ nyc: [u], lon: [{ ...u, fingerprint: "f2", openConflicts: 1 }] }),
        new Expectations(twoSites),
      ).map((d) => [d.site, d.cause]),
    ).toEqual([
      ["nyc", "diverged"],
      ["lon", "conflicting"],
    ]);
    expect(compareUsers(usersOf({ nyc: [u], lon: [u] }), new Expectations(twoSites))).toEqual([]);
  });

  it("reports a user absent at a site that should have it", () => {
    const u = user();
    expect(
      compareUsers(usersOf({ nyc: [u], lon: [] }), new Expectations(twoSites)).map((d) => [d.site, d.cause]),
    ).toEqual([["lon", "missing"]]);
  });
});

describe("verify: bucket digests", () => {
  it("reads only the buckets whose digests differ between sites", () => {
    const same = new Map(BUCKETS.map((b) => [b, `d-${b}`]));
    const other = new Map(same);
    other.set("7", "changed");
    other.delete("c");
    expect(differingBuckets([same, new Map(same)])).toEqual([]);
    expect(differingBuckets([same, other])).toEqual(["7", "c"]);
  });
});
