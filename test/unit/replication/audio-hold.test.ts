import { describe, expect, it } from "vitest";
import type { LinkSchedule } from "@tandem/config";
import { audioHeldOrigins } from "@tandem/replication";
import { link } from "../../support/topology";

const night: LinkSchedule = { kind: "windows", timeZone: "UTC", windows: [{ start: "22:00", end: "06:00" }] };
const noon = new Date("2025-01-01T12:00:00Z");
const midnight = new Date("2025-01-01T23:00:00Z");

describe("audio held back by the calls schedule of the link that brings an origin's calls", () => {
  it("holds an origin's audio outside the calls window of its link, and not inside", () => {
    const links = [link("nyc", "lon", { schedule: night }), link("sfo", "lon")];
    expect(audioHeldOrigins(links, "lon", noon)).toEqual(["nyc"]);
    expect(audioHeldOrigins(links, "lon", midnight)).toEqual([]);
    expect(audioHeldOrigins(links, "nyc", noon)).toEqual([]);
  });

  it("follows the calls stream's own schedule, not the users'", () => {
    expect(audioHeldOrigins([link("nyc", "lon", { schedules: { users: night } })], "lon", noon)).toEqual([]);
    expect(audioHeldOrigins([link("nyc", "lon", { schedules: { calls: night } })], "lon", noon)).toEqual([
      "nyc",
    ]);
  });

  it("follows the last hop of a relayed origin's path", () => {
    const chain = [link("nyc", "lon"), link("lon", "sfo", { schedule: night })];
    expect(audioHeldOrigins(chain, "sfo", noon)).toEqual(["lon", "nyc"]);
    const openLastHop = [link("nyc", "lon", { schedule: night }), link("lon", "sfo")];
    expect(audioHeldOrigins(openLastHop, "sfo", noon)).toEqual([]);
  });

  it("leaves catch-ups' audio alone: manual and periodic links hold nothing back", () => {
    const links = [
      link("nyc", "lon", { schedule: { kind: "manual" } }),
      link("sfo", "lon", { schedule: { kind: "periodic", timeZone: "UTC", everyMs: 3_600_000 } }),
    ];
    expect(audioHeldOrigins(links, "lon", noon)).toEqual([]);
  });
});
