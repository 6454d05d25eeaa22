import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Topology } from "@tandem/config";
import type { UserChanged } from "@tandem/events";
import { applyUserChanged, emptyUserState } from "@tandem/materializer/users";
import {
  planCallRepairs,
  planUserRepairs,
  repairTopic,
  sourceRefusal,
  type CallRepairInput,
} from "../../../services/cli/src/repair/core/plan";
import { Expectations } from "@tandem/operations";
import type { CallSummary } from "../../../services/materializer/src/queries";
import { callSummary } from "../../support/call-summaries";
import { link, twoWay } from "../../support/topology";
import { created, upsert, USER_ID } from "../users/fixtures";

const site = (id: string) => ({ id }) as Topology["sites"][number];
const now = new Date("2026-11-25T12:00:00Z");
const denied = randomUUID();
const deny = { filters: { tenants: { deny: [denied] }, groups: { deny: [] } } };

/** nyc <-> lon, and lon -> sfo without the denied tenant: sfo gets nyc's calls through lon. */
const chain: Topology = {
  sites: [site("nyc"), site("lon"), site("sfo")],
  links: [...twoWay("nyc", "lon"), link("lon", "sfo", deny)],
};

const call = (overrides: Partial<CallSummary> = {}) => callSummary(now, overrides);

function plan(bySite: Record<string, CallSummary[]>, overrides: Partial<CallRepairInput> = {}) {
  return planCallRepairs({
    target: "sfo",
    bySite: new Map(
      Object.entries(bySite).map(([id, rows]) => [id, new Map(rows.map((r) => [r.callId, r]))]),
    ),
    routes: new Expectations(chain),
    deadLettered: new Set(),
    now,
    inFlightGraceMs: 30_000,
    ...overrides,
  });
}

describe("repair: which calls to publish, from where, with which headers", () => {
  it("re-publishes a missing call from its origin into <origin>.calls.completed, with the route as path", () => {
    const c = call();
    const { actions } = plan({ nyc: [c], lon: [c], sfo: [] });
    expect(actions).toEqual([
      {
        kind: "republish",
        callId: c.callId,
        cause: "missing",
        source: "nyc",
        origin: "nyc",
        topic: "nyc.calls.completed",
        path: ["nyc", "lon", "sfo"],
        tenantId: c.tenantId,
        groupId: c.groupId,
      },
    ]);
  });

  it("publishes a site's own lost call into its local topic, with only itself as path", () => {
    const c = call({ originSite: "lon" });
    const { actions } = plan({ nyc: [c], lon: [] }, { target: "lon" });
    expect(actions).toMatchObject([
      { kind: "republish", source: "nyc", topic: "calls.completed", path: ["lon"] },
    ]);
  });

  it("never publishes a denied tenant, multi-hop included, and counts what the filters keep out", () => {
    const kept = call({ tenantId: denied });
    const result = plan({ nyc: [kept], lon: [kept], sfo: [] });
    expect(result.actions).toEqual([]);
    expect(result.keptOut).toBe(1);
    expect(plan({ nyc: [kept], lon: [kept], sfo: [] }, { from: "lon" }).actions).toEqual([]);
  });

  it("reports a call the filters keep out that the target holds anyway, and publishes nothing for it", () => {
    const leaked = call({ tenantId: denied });
    expect(plan({ nyc: [leaked], sfo: [leaked] }).actions).toMatchObject([
      { kind: "leave", cause: "unexpected" },
    ]);
  });

  it("re-arms failed audio by publishing the call again while another site holds a verified copy", () => {
    const c = call();
    const { actions } = plan({ nyc: [c], sfo: [{ ...c, audioState: "failed" }] });
    expect(actions).toMatchObject([{ kind: "republish", cause: "audio-failed", source: "nyc" }]);
  });

  it("dead-letters a call whose audio no site holds, once, and never publishes it", () => {
    const c = call({ audioState: "failed" });
    expect(plan({ nyc: [c], sfo: [] }).actions).toEqual([
      { kind: "dead-letter", callId: c.callId, origin: "nyc", tenantId: c.tenantId, sha256: c.audioSha256 },
    ]);
    expect(plan({ nyc: [c], sfo: [] }, { deadLettered: new Set([c.callId]) }).actions).toMatchObject([
      { kind: "leave", cause: "dead-lettered-before" },
    ]);
  });

  it("leaves to the pipeline what is on its way: recent calls and audio being copied", () => {
    const recent = call({ firstSeenAt: new Date(now.getTime() - 5_000) });
    const copying = call();
    const { actions } = plan({ nyc: [recent, copying], sfo: [{ ...copying, audioState: "pending" }] });
    expect(actions.map((a) => [a.callId, a.kind === "leave" && a.cause]).sort()).toEqual(
      [
        [recent.callId, "in-flight"],
        [copying.callId, "audio-pending"],
      ].sort(),
    );
  });

  it("publishes a call without audio; the origin's row is preferred, another holder's when the origin lost it", () => {
    const silent = call({ audioSha256: null, audioState: "none" });
    const audioLostAtOrigin = call();
    const rowLostAtOrigin = call();
    const { actions } = plan({
      nyc: [silent, { ...audioLostAtOrigin, audioState: "failed" }],
      lon: [audioLostAtOrigin, rowLostAtOrigin],
      sfo: [],
    });
    expect(Object.fromEntries(actions.map((a) => [a.callId, a.kind === "republish" && a.source]))).toEqual({
      [silent.callId]: "nyc",
      // The event names the origin's object key; the target copies the audio from lon, which holds it.
      [audioLostAtOrigin.callId]: "nyc",
      [rowLostAtOrigin.callId]: "lon",
    });
  });

  it("with --from, publishes only that site's rows and says which calls it does not hold", () => {
    const atLonOnly = call();
    const atNycOnly = call();
    const { actions } = plan({ nyc: [atNycOnly], lon: [atLonOnly], sfo: [] }, { from: "lon" });
    expect(
      Object.fromEntries(actions.map((a) => [a.callId, a.kind === "republish" ? a.source : a.kind])),
    ).toEqual({
      [atLonOnly.callId]: "lon",
      [atNycOnly.callId]: "leave",
    });
  });

  it("does nothing for a call the target holds with its audio", () => {
    const c = call();
    expect(plan({ nyc: [c], lon: [c], sfo: [c] }).actions).toEqual([]);
  });

  it("refuses a --from that no link connects to the target, or the target itself", () => {
    const routes = new Expectations(chain);
    expect(sourceRefusal(routes, "nyc", "sfo")).toBeUndefined();
    expect(sourceRefusal(routes, "sfo", "lon")).toMatch(/no link carries calls from sfo to lon/);
    expect(sourceRefusal(routes, "lon", "lon")).toMatch(/cannot be its own source/);
  });

  it("names the topic as the bridges do", () => {
    expect(repairTopic("nyc", "lon")).toBe("nyc.calls.completed");
    expect(repairTopic("lon", "lon")).toBe("calls.completed");
  });
});

describe("repair: which user writes the target lacks", () => {
  const lonAndSfo = (states: Record<string, UserChanged[]>) =>
    new Map(
      Object.entries(states).map(([id, events]) => [
        id,
        new Map([[USER_ID, events.reduce(applyUserChanged, emptyUserState(USER_ID))]]),
      ]),
    );
  const rename = upsert({
    id: "evt-rename",
    site: "nyc",
    at: 200,
    base: { nyc: 100 },
    set: { name: "Ada L." },
  });
  const lonEdit = upsert({ id: "evt-lon", site: "lon", at: 150, base: { nyc: 100 }, set: { role: "admin" } });

  it("re-emits the writes the target lacks with their own ids, clocks and versions, along the route", () => {
    const { users } = planUserRepairs({
      target: "sfo",
      statesBySite: lonAndSfo({ nyc: [created, rename, lonEdit], lon: [created, lonEdit], sfo: [created] }),
      routes: new Expectations(chain),
    });
    expect(users).toHaveLength(1);
    const sent = users[0]!.redeliveries;
    expect(sent.map((r) => [r.event.eventId, r.topic, r.path.join(",")])).toEqual([
      ["evt-lon", "lon.users.changed", "lon,sfo"],
      ["evt-rename", "nyc.users.changed", "nyc,lon,sfo"],
    ]);
    expect(sent[1]!.event).toMatchObject({ hlc: rename.hlc, originSite: "nyc", changedFields: ["name"] });
  });

  it("publishes a site's own lost write into its local topic, and nothing once the target holds every write", () => {
    const lost = planUserRepairs({
      target: "lon",
      statesBySite: lonAndSfo({ nyc: [created, lonEdit], lon: [created] }),
      routes: new Expectations(chain),
    });
    expect(lost.users[0]!.redeliveries.map((r) => [r.topic, r.path])).toEqual([["users.changed", ["lon"]]]);
    const repaired = planUserRepairs({
      target: "lon",
      statesBySite: lonAndSfo({ nyc: [created, lonEdit], lon: [created, lonEdit] }),
      routes: new Expectations(chain),
    });
    expect(repaired.users).toEqual([]);
  });

  it("never re-emits a denied tenant's writes into a site its filters keep them out of", () => {
    const deniedUser = [{ ...created, tenantId: denied }];
    const plan = planUserRepairs({
      target: "sfo",
      statesBySite: lonAndSfo({ nyc: deniedUser, lon: deniedUser, sfo: [] }),
      routes: new Expectations(chain),
    });
    expect(plan.users).toEqual([]);
    expect(plan.keptOut).toBeGreaterThan(0);
  });
});
