import { describe, expect, it } from "vitest";
import { parseTopology, topologySeenFrom } from "@tandem/config";
import { site, validDocument, yaml } from "./fixtures";

function s3Site(id: string): Record<string, unknown> {
  return {
    ...site(id),
    objectStore: {
      kind: "s3",
      endpoint: `http://s3.${id}.internal:9000`,
      region: "us-east-1",
      bucket: `tandem-${id}`,
    },
  };
}

describe("reachedFrom and topologySeenFrom", () => {
  const document = validDocument();
  document.sites = [
    s3Site("nyc"),
    {
      ...s3Site("lon"),
      reachedFrom: {
        nyc: {
          kafka: { brokers: ["wan.lon:19092"] },
          registry: { url: "http://wan.lon:18081" },
          objectStore: { endpoint: "http://wan.lon:19000" },
        },
      },
    },
  ];
  const topology = parseTopology(yaml(document));

  it("gives a site's services the other sites at the addresses declared for them", () => {
    const fromNyc = topologySeenFrom(topology, "nyc");
    const lon = fromNyc.sites.find((s) => s.id === "lon")!;
    expect(lon.kafka.brokers).toEqual(["wan.lon:19092"]);
    expect(lon.registry.url).toBe("http://wan.lon:18081");
    expect(lon.objectStore).toMatchObject({
      kind: "s3",
      endpoint: "http://wan.lon:19000",
      bucket: "tandem-lon",
    });
    expect(lon.reachedFrom).toBeUndefined();
    expect(fromNyc.sites.find((s) => s.id === "nyc")!.kafka.brokers).toEqual(["kafka.nyc.internal:9092"]);
  });

  it("keeps a site's own addresses for itself and for sites it declares nothing for", () => {
    const fromLon = topologySeenFrom(topology, "lon");
    expect(fromLon.sites.map((s) => s.kafka.brokers)).toEqual([
      ["kafka.nyc.internal:9092"],
      ["kafka.lon.internal:9092"],
    ]);
  });

  it("refuses reachedFrom naming an unknown site or the site itself", () => {
    const bad = validDocument();
    bad.sites[1] = { ...site("lon"), reachedFrom: { par: {}, lon: {} } };
    expect(() => parseTopology(yaml(bad))).toThrow(
      /sites\[1\]\.reachedFrom\.par.*unknown site "par"[\s\S]*sites\[1\]\.reachedFrom\.lon.*does not reach itself/,
    );
  });
});
