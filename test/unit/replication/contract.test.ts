import { describe, expect, it } from "vitest";
import {
  HEARTBEAT_FORWARDED_AT_HEADER,
  LINK_METRICS,
  bridgeClientId,
  bridgeGroupId,
  bridgeTransactionGroupId,
  bridgeTransactionalId,
  heartbeatMessage,
  linkName,
  materializerGroupId,
  metricSamples,
  parseHeartbeat,
  topicsAtSite,
} from "@tandem/replication";

describe("names in Kafka", () => {
  const link = { from: "nyc", to: "lon" };

  it("keep the groups and ids that running deployments already committed offsets under", () => {
    expect(linkName(link)).toBe("nyc->lon");
    expect(bridgeGroupId(link)).toBe("tandem-bridge.nyc-lon");
    expect(bridgeTransactionGroupId(link)).toBe("tandem-bridge-eos.nyc-lon");
    expect(bridgeTransactionalId(link, "calls.completed", 2)).toBe("tandem-bridge.nyc-lon.calls.completed.2");
    expect(bridgeClientId(link)).toBe("tandem-bridge-nyc->lon");
    expect(materializerGroupId("lon")).toBe("tandem-materializer.lon");
  });

  it("differ per direction of a two-way link", () => {
    expect(bridgeGroupId({ from: "lon", to: "nyc" })).not.toBe(bridgeGroupId(link));
  });
});

describe("topics at a site", () => {
  const existing = [
    "users.changed",
    "calls.completed",
    "nyc.calls.completed",
    "lon.calls.completed",
    "sfo.users.changed",
    "tandem.dlq",
    "tandem.calls.completed",
    "nyc.tandem.heartbeats",
    "__consumer_offsets",
  ];

  it("select one stream's local topic and the other origins' copies of it", () => {
    expect(topicsAtSite(existing, "lon", ["calls"])).toEqual(["calls.completed", "nyc.calls.completed"]);
    expect(topicsAtSite(existing, "lon", ["users"])).toEqual(["sfo.users.changed", "users.changed"]);
  });

  it("never take the site's own events come back, nor Tandem's internal topics", () => {
    expect(topicsAtSite(existing, "lon")).toEqual([
      "calls.completed",
      "nyc.calls.completed",
      "sfo.users.changed",
      "users.changed",
    ]);
    expect(topicsAtSite(existing, "nyc")).toEqual([
      "calls.completed",
      "lon.calls.completed",
      "sfo.users.changed",
      "users.changed",
    ]);
  });
});

describe("heartbeats", () => {
  it("read back what a link wrote", () => {
    const message = heartbeatMessage("nyc->lon", new Date(1_700_000_000_000));
    expect(parseHeartbeat({ value: Buffer.from(message.value) })).toEqual({
      link: "nyc->lon",
      emittedAtMs: 1_700_000_000_000,
    });
    expect(HEARTBEAT_FORWARDED_AT_HEADER).toBe("tandem-heartbeat-forwarded-at");
  });

  it("ignore foreign records on the topic", () => {
    expect(parseHeartbeat({ value: null })).toBeUndefined();
    expect(parseHeartbeat({ value: Buffer.from("not json") })).toBeUndefined();
    expect(parseHeartbeat({ value: Buffer.from('{"link":1,"emittedAtMs":2}') })).toBeUndefined();
  });
});

describe("metric samples", () => {
  const exposition = [
    "# HELP tandem_link_lag_records Records at the source not yet forwarded",
    "# TYPE tandem_link_lag_records gauge",
    'tandem_link_lag_records{link="nyc->lon"} 12',
    'tandem_link_lag_records{instance="b",link="lon->nyc"} 0',
    'tandem_link_lag_records_other{link="nyc->lon"} 99',
    'tandem_link_lag_seconds{link="nyc->lon"} 3.5',
    'tandem_link_lag_records{link="sfo->nyc"} NaN',
    'tandem_link_errors_total{link="a \\"quoted\\" name",kind="deliver"} 2',
    "process_cpu_seconds_total 1.25",
  ].join("\n");

  it("are the named metric's lines only, with their labels", () => {
    expect(metricSamples(exposition, LINK_METRICS.lagRecords)).toEqual([
      { labels: { link: "nyc->lon" }, value: 12 },
      { labels: { instance: "b", link: "lon->nyc" }, value: 0 },
    ]);
  });

  it("unescape label values and read unlabelled metrics", () => {
    expect(metricSamples(exposition, LINK_METRICS.errors)).toEqual([
      { labels: { link: 'a "quoted" name', kind: "deliver" }, value: 2 },
    ]);
    expect(metricSamples(exposition, "process_cpu_seconds_total")).toEqual([{ labels: {}, value: 1.25 }]);
  });
});
