import { describe, expect, it } from "vitest";
import { convergenceProblems, type SiteReading } from "../../support/soak/convergence";
import { auditTopology, linkTopology, materializerTopology } from "../../support/soak/topology";
import type { VerifyReport } from "@tandem/operations";
import type { Topology } from "@tandem/config";

const clean: VerifyReport = {
  sites: ["nyc", "lon"],
  calls: {},
  users: {},
  bucketsCompared: 32,
  bucketsRead: 0,
  differences: [],
  consistent: true,
};
const conflict = { userId: "u1", field: "name", status: "resolved-by-policy", winner: '"Ada"' };
const reading = (site: string, calls: number, conflicts = [conflict]): SiteReading => ({
  site,
  calls,
  conflicts,
});

describe("convergence", () => {
  it("holds when the audit is clean, every site has every recorded call, and conflicts agree", () => {
    expect(convergenceProblems(clean, [reading("nyc", 10), reading("lon", 10)], 10)).toEqual([]);
  });

  it("names the audit's differences by cause", () => {
    const audit: VerifyReport = {
      ...clean,
      consistent: false,
      differences: [
        { kind: "call", id: "c1", site: "lon", cause: "missing", detail: "" },
        { kind: "call", id: "c2", site: "lon", cause: "missing", detail: "" },
        { kind: "call", id: "c3", site: "nyc", cause: "audio-pending", detail: "" },
      ],
    };
    expect(convergenceProblems(audit, [reading("nyc", 10), reading("lon", 10)], 10)).toEqual([
      "audit: 2 missing, 1 audio-pending",
    ]);
  });

  it("sees a lost or a duplicated call in the row counts", () => {
    expect(convergenceProblems(clean, [reading("nyc", 9), reading("lon", 11)], 10)).toEqual([
      "nyc: 9 calls, 10 recorded",
      "lon: 11 calls, 10 recorded",
    ]);
  });

  it("sees a conflict resolved differently at one site, whatever the order of rows", () => {
    const other = { ...conflict, userId: "u2" };
    expect(
      convergenceProblems(
        clean,
        [reading("nyc", 1, [conflict, other]), reading("lon", 1, [other, conflict])],
        1,
      ),
    ).toEqual([]);
    expect(
      convergenceProblems(
        clean,
        [reading("nyc", 1), reading("lon", 1, [{ ...conflict, winner: '"Bob"' }])],
        1,
      ),
    ).toEqual(["lon: conflicts differ from nyc (1 vs 1)"]);
  });
});

const s3 = (endpoint: string) => ({
  kind: "s3" as const,
  endpoint,
  region: "us-east-1",
  bucket: "b",
  accessKeyId: "a",
  secretAccessKey: "s",
  forcePathStyle: true,
});
const base: Topology = {
  sites: ["nyc", "lon"].map((id, i) => ({
    id,
    kafka: { brokers: [`127.0.0.1:${9000 + i}`] },
    registry: { url: "http://127.0.0.1:1" },
    postgres: { connectionString: `postgres://u@127.0.0.1/${id}` },
    objectStore: s3(`http://127.0.0.1:${7000 + i}`),
    mergePolicy: { kind: "lww" as const },
  })),
  links: [
    {
      from: "nyc",
      to: "lon",
      streams: ["calls", "users"],
      filters: { tenants: { deny: [] }, groups: { deny: [] } },
      schedule: { kind: "continuous" },
      delivery: "at-least-once",
    },
    {
      from: "lon",
      to: "nyc",
      streams: ["calls", "users"],
      filters: { tenants: { deny: [] }, groups: { deny: [] } },
      schedule: { kind: "continuous" },
      delivery: "at-least-once",
    },
  ],
};

describe("soak topologies", () => {
  it("gives a materializer its own database and leaves the other sites as they are", () => {
    const topology = materializerTopology(base, "lon", "postgres://u@127.0.0.1/fresh");
    const [nyc, lon] = topology.sites;
    expect(lon!.postgres).toEqual({ connectionString: "postgres://u@127.0.0.1/fresh" });
    expect(lon!.objectStore).toEqual(base.sites[1]!.objectStore);
    expect(nyc).toEqual(base.sites[0]);
  });

  it("runs one link alone and audits the run's databases", () => {
    expect(linkTopology(base, base.links[1]!).links).toEqual([base.links[1]]);
    expect(auditTopology(base, { nyc: "postgres://x" }).sites.map((s) => s.postgres)).toEqual([
      { connectionString: "postgres://x" },
      base.sites[1]!.postgres,
    ]);
  });
});
