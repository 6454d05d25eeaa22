import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadTopology, TopologyError } from "@tandem/config";

const examples = fileURLToPath(new URL("../../../config/examples/", import.meta.url));

const env = {
  NYC_KAFKA_PASSWORD: "k1",
  LON_KAFKA_PASSWORD: "k2",
  SGP_KAFKA_PASSWORD: "k3",
  NYC_PG_PASSWORD: "p1",
  LON_PG_PASSWORD: "p2",
  NYC_S3_ACCESS_KEY_ID: "AKID",
  NYC_S3_SECRET_ACCESS_KEY: "s1",
  NYC_S3_SECRET: "s2",
  LON_REGISTRY_PASSWORD: "r2",
  NYC_DATABASE_URL: "postgres://tandem:p1@pg.nyc:5432/tandem",
  LON_DATABASE_URL: "postgres://tandem:p2@pg.lon:5432/tandem",
  SGP_DATABASE_URL: "postgres://tandem:p3@pg.sgp:5432/tandem",
};

describe("example topologies", () => {
  it("two-sites.yaml links nyc and lon both ways", () => {
    const topology = loadTopology(`${examples}two-sites.yaml`, env);
    expect(topology.sites.map((s) => s.id)).toEqual(["nyc", "lon"]);
    expect(topology.links.map((l) => `${l.from}->${l.to}`)).toEqual(["nyc->lon", "lon->nyc"]);
    expect(topology.sites[0]?.postgres).toEqual({
      connectionString: "postgres://tandem:p1@pg.nyc.internal:5432/tandem",
    });
  });

  it("three-site-mesh.yaml links every pair both ways", () => {
    const topology = loadTopology(`${examples}three-site-mesh.yaml`, env);
    expect(topology.sites.map((s) => s.id)).toEqual(["nyc", "lon", "sgp"]);
    const pairs = topology.links.map((l) => `${l.from}->${l.to}`).sort();
    expect(pairs).toEqual(["lon->nyc", "lon->sgp", "nyc->lon", "nyc->sgp", "sgp->lon", "sgp->nyc"]);
    const nycToSgp = topology.links.find((l) => l.from === "nyc" && l.to === "sgp");
    expect(nycToSgp?.schedule).toMatchObject({ kind: "windows", timeZone: "Asia/Singapore" });
    expect(nycToSgp?.filters.tenants.deny).toEqual(["7b0c6a4e-2f1d-4c3b-9a8e-5d6f7e8a9b0c"]);
  });

  it("schedules.yaml writes calls now and users at night, weekends only, hourly, weekly and a capped link", () => {
    const topology = loadTopology(`${examples}schedules.yaml`, env);
    const byPair = new Map(topology.links.map((l) => [`${l.from}->${l.to}`, l]));
    expect(byPair.get("nyc->lon")?.schedules?.users).toMatchObject({
      kind: "windows",
      timeZone: "Europe/London",
    });
    expect(byPair.get("lon->sgp")?.schedule).toMatchObject({
      windows: [{ days: ["sun", "sat"], end: "24:00" }],
    });
    expect(byPair.get("sgp->lon")?.schedule).toEqual({
      kind: "periodic",
      timeZone: "UTC",
      everyMs: 3_600_000,
    });
    expect(byPair.get("sgp->nyc")?.schedule).toMatchObject({
      kind: "periodic",
      at: ["02:00"],
      days: ["sun"],
    });
    expect(byPair.get("lon->nyc")?.bandwidth).toMatchObject({
      bytesPerSecond: 12_500_000,
      windows: [{ bytesPerSecond: 1_250_000 }],
    });
  });

  it("refuses to load an example without its secrets", () => {
    expect(() => loadTopology(`${examples}three-site-mesh.yaml`, {})).toThrow(TopologyError);
  });
});
