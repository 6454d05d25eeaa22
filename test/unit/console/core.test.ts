import { describe, expect, it } from "vitest";
import type { DeadLetterView, StatusReport } from "@tandem/operations";
import {
  isLoopback,
  parseListen,
  refusal,
  roleFor,
  secretsOf,
  withoutSecrets,
} from "../../../services/console/src/core/access";
import { conflictView, parseResolution } from "../../../services/console/src/core/conflicts";
import { matchesDlqFilter, reasonCounts } from "../../../services/console/src/core/dlq-filter";
import { LagSeries } from "../../../services/console/src/core/lag-series";
import { overviewOf } from "../../../services/console/src/core/overview";

const link = (over: Partial<StatusReport["links"][number]>): StatusReport["links"][number] => ({
  link: "nyc->lon",
  schedule: "continuous",
  cap: undefined,
  streams: [{ stream: "calls", schedule: "continuous", open: true, nextChange: undefined }],
  delivery: "at-least-once",
  health: "ok",
  why: "",
  lagRecords: 0,
  lastHeartbeatAt: "2026-01-01T00:00:00.000Z",
  heartbeatAgeSeconds: 2.4,
  retentionRisks: [],
  ...over,
});

const status = (links: StatusReport["links"]): StatusReport => ({
  at: "2026-01-01T00:00:02.000Z",
  sites: [
    { site: "nyc", kafkaReachable: true, dlqRecords: 3, openConflicts: 1, audio: undefined, gaps: [] },
    {
      site: "lon",
      kafkaReachable: true,
      dlqRecords: 0,
      openConflicts: 0,
      audio: { pending: 0, oldestPendingSeconds: undefined },
      gaps: [
        {
          site: "lon",
          component: "materializer",
          topic: "t",
          partition: 0,
          firstOffset: "0",
          lastOffset: "9",
          count: 10,
          detectedAt: "x",
        } as StatusReport["sites"][number]["gaps"][number],
      ],
    },
  ],
  links,
  healthy: true,
});

describe("console overview", () => {
  it("names each link's state as the operator reads it", () => {
    const overview = overviewOf(
      status([
        link({}),
        link({ link: "lon->nyc", health: "paused", why: "outside its schedule" }),
        link({ link: "nyc->sfo", health: "down" }),
        link({ link: "sfo->nyc", health: "behind" }),
        link({ link: "lon->sfo", health: "data-lost" }),
      ]),
      new Map(),
    );
    expect(overview.links.map((l) => [l.link, l.from, l.to, l.state])).toEqual([
      ["nyc->lon", "nyc", "lon", "running"],
      ["lon->nyc", "lon", "nyc", "paused by schedule"],
      ["nyc->sfo", "nyc", "sfo", "down"],
      ["sfo->nyc", "sfo", "nyc", "behind"],
      ["lon->sfo", "lon", "sfo", "data-lost"],
    ]);
  });

  it("gives lag in seconds from the heartbeat's age and the soonest change of a stream's schedule", () => {
    const overview = overviewOf(
      status([
        link({
          heartbeatAgeSeconds: 42.6,
          streams: [
            { stream: "calls", schedule: "s", open: true, nextChange: "2026-01-01T18:00:00.000Z" },
            { stream: "users", schedule: "s", open: false, nextChange: "2026-01-01T06:00:00.000Z" },
          ],
        }),
      ]),
      new Map(),
    );
    expect(overview.links[0]!.lagSeconds).toBe(43);
    expect(overview.links[0]!.nextChange).toEqual({ at: "2026-01-01T06:00:00.000Z", opens: true });
  });

  it("shows per site its database figures, DLQ size and records lost; none when the database is unreadable", () => {
    const figures = {
      calls: 10,
      audioPending: 1,
      audioFailed: 2,
      users: 3,
      openConflicts: 1,
      openConflictsDigest: "1:42",
    };
    const overview = overviewOf(status([]), new Map([["nyc", figures]]));
    expect(overview.sites).toEqual([
      { site: "nyc", kafkaReachable: true, figures, dlqRecords: 3, recordsLost: 0 },
      { site: "lon", kafkaReachable: true, figures: undefined, dlqRecords: 0, recordsLost: 10 },
    ]);
  });
});

describe("lag history", () => {
  it("keeps only the window's samples and derives the forwarding rate from the committed totals", () => {
    const series = new LagSeries(60_000, 1000);
    series.add("a", { atMs: 0, lagRecords: 5, lagSeconds: 1, forwardedTotal: 100 });
    series.add("a", { atMs: 10_000, lagRecords: 3, lagSeconds: 1, forwardedTotal: 150 });
    series.add("a", { atMs: 20_000, lagRecords: 0, lagSeconds: 1, forwardedTotal: 20 });
    series.add("a", { atMs: 80_000, lagRecords: 0, lagSeconds: 2, forwardedTotal: 20 });
    expect(series.series("a").map((s) => [s.atMs, s.recordsPerSecond])).toEqual([
      [20_000, undefined],
      [80_000, 0],
    ]);
    const first = new LagSeries(60_000, 1000);
    first.add("a", { atMs: 0, lagRecords: 5, lagSeconds: 1, forwardedTotal: 100 });
    first.add("a", { atMs: 10_000, lagRecords: 3, lagSeconds: 1, forwardedTotal: 150 });
    expect(first.series("a")[1]!.recordsPerSecond).toBe(5);
  });

  it("holds at most maxSamples per link, whatever the window", () => {
    const series = new LagSeries(1e9, 3);
    for (let i = 0; i < 10; i++)
      series.add("a", { atMs: i, lagRecords: i, lagSeconds: 0, forwardedTotal: undefined });
    expect(series.series("a").map((s) => s.lagRecords)).toEqual([7, 8, 9]);
    expect(series.links()).toEqual(["a"]);
  });
});

describe("console access", () => {
  const credentials = { adminPassword: "a-secret", viewerPassword: "v-secret" };

  it("opens the role whose password matches, and nothing for a wrong or absent one", () => {
    expect(roleFor(credentials, "admin", "a-secret")).toBe("admin");
    expect(roleFor(credentials, "viewer", "v-secret")).toBe("viewer");
    expect(roleFor(credentials, "admin", "v-secret")).toBeUndefined();
    expect(roleFor({ ...credentials, viewerPassword: undefined }, "viewer", "")).toBeUndefined();
  });

  it("listens on loopback freely; elsewhere only with both passwords from the environment", () => {
    expect(parseListen("127.0.0.1:9400")).toEqual({ host: "127.0.0.1", port: 9400 });
    expect(parseListen("[::1]:80")).toEqual({ host: "::1", port: 80 });
    expect(() => parseListen("9400")).toThrow(/host:port/);
    expect(isLoopback("localhost") && isLoopback("127.0.0.2") && !isLoopback("0.0.0.0")).toBe(true);
    expect(refusal({ host: "127.0.0.1", port: 1 }, {})).toBeUndefined();
    expect(refusal({ host: "0.0.0.0", port: 1 }, { adminPassword: "a" })).toMatch(/not loopback/);
    expect(refusal({ host: "0.0.0.0", port: 1 }, credentials)).toBeUndefined();
  });

  it("finds every credential of a topology and hides them in text", () => {
    const topology = {
      sites: [
        {
          kafka: { sasl: { mechanism: "scram-sha-512", username: "bridge", password: "k-pw" } },
          postgres: { connectionString: "postgres://u:p%40ss@db/x" },
          objectStore: { accessKeyId: "AKIA1", secretAccessKey: "s3-secret", bucket: "calls" },
          registry: { url: "http://r", auth: { username: "reg", password: "r-pw" } },
        },
      ],
    };
    const secrets = secretsOf(topology);
    expect(secrets).toEqual(
      expect.arrayContaining([
        "k-pw",
        "bridge",
        "postgres://u:p%40ss@db/x",
        "p@ss",
        "AKIA1",
        "s3-secret",
        "r-pw",
      ]),
    );
    expect(secrets).not.toContain("calls");
    expect(withoutSecrets("connect postgres://u:p%40ss@db/x failed, key s3-secret", secrets)).toBe(
      "connect *** failed, key ***",
    );
  });
});

describe("console conflicts and DLQ", () => {
  it("shows a conflict's sides with their sites and clocks", () => {
    const sibling = (value: string, site: string, ms: number) => ({
      value,
      originSite: site,
      hlc: { wallTimeMs: ms, logical: 1 },
      eventId: `e-${site}`,
    });
    const view = conflictView("lon", {
      userId: "u",
      tenantId: "t",
      field: "name",
      siblings: [sibling("Ada at nyc", "nyc", 0), sibling("Ada at lon", "lon", 1000)],
      winner: sibling("Ada at lon", "lon", 1000),
      status: "open",
      detectedAt: new Date(5000),
    });
    expect(view.shown).toBe("Ada at lon");
    expect(view.sides).toEqual([
      { value: "Ada at nyc", site: "nyc", at: "1970-01-01T00:00:00.000Z", logical: 1, eventId: "e-nyc" },
      { value: "Ada at lon", site: "lon", at: "1970-01-01T00:00:01.000Z", logical: 1, eventId: "e-lon" },
    ]);
  });

  it("accepts a resolution for a known site, a user UUID and a field of the user", () => {
    const userId = "6c1d2f3a-0000-4000-8000-000000000001";
    expect(parseResolution({ site: "lon", userId, field: "name", value: "Ada" }, ["lon"])).toEqual({
      site: "lon",
      userId,
      field: "name",
      value: "Ada",
    });
    expect(parseResolution({ site: "sfo", userId, field: "name", value: 1 }, ["lon"])).toBe("unknown site");
    expect(parseResolution({ site: "lon", userId: "x", field: "name", value: 1 }, ["lon"])).toMatch(/UUID/);
    expect(parseResolution({ site: "lon", userId, field: "shoe", value: 1 }, ["lon"])).toMatch(/field/);
    expect(parseResolution({ site: "lon", userId, field: "name" }, ["lon"])).toMatch(/value/);
  });

  it("filters dead letters by reason and time, and counts the kinds of reason", () => {
    const letter = (reason: string, at: string): DeadLetterView => ({
      site: "nyc",
      partition: 0,
      offset: "0",
      at,
      reason,
      component: "materializer",
      source: undefined,
      callId: undefined,
      decoded: undefined,
      decodeError: undefined,
      valueBytes: 0,
    });
    const a = letter("no-magic-byte: calls.completed/0@1", "2026-01-01T10:00:00.000Z");
    const b = letter("audio-failed: 404", "2026-01-01T12:00:00.000Z");
    const c = letter("no-magic-byte: calls.completed/0@2", "2026-01-01T14:00:00.000Z");
    expect([a, b, c].filter((r) => matchesDlqFilter(r, { reason: "MAGIC" }))).toEqual([a, c]);
    expect(
      [a, b, c].filter((r) =>
        matchesDlqFilter(r, { since: "2026-01-01T11:00:00.000Z", until: "2026-01-01T13:00:00.000Z" }),
      ),
    ).toEqual([b]);
    expect(reasonCounts([a, b, c])).toEqual([
      { reason: "no-magic-byte", count: 2 },
      { reason: "audio-failed", count: 1 },
    ]);
  });
});
