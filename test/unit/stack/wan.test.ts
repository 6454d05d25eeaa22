import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  LocalStack,
  BLACKHOLE_TOXICS,
  DEFAULT_WAN_PROFILE,
  directionPorts,
  lastStackPort,
  layoutChange,
  parseWanPair,
  parseWanProfile,
  profileOf,
  profileToxics,
  selectDirections,
  serverProperties,
  sitePorts,
  wanDirections,
  wanLayoutOf,
  wanPorts,
  type StackLayout,
} from "@tandem/stack";
import { envLines } from "../../../services/cli/src/commands/stack";
import { localTopology, meshLinks, siteConfigOf } from "../../../services/cli/src/local-topology";

const sites = ["nyc", "lon", "sfo"];
const lines = (text: string) => text.split("\n");

describe("WAN profile syntax", () => {
  it("fills keys left out from the default profile: rtt=80ms,jitter=5ms,bandwidth=100mbit", () => {
    expect(parseWanProfile("")).toEqual(DEFAULT_WAN_PROFILE);
    expect(DEFAULT_WAN_PROFILE).toEqual({ rttMs: 80, jitterMs: 5, bandwidthKbit: 100_000 });
    expect(parseWanProfile("rtt=150ms")).toEqual({ rttMs: 150, jitterMs: 5, bandwidthKbit: 100_000 });
    expect(parseWanProfile("rtt=0.2s,jitter=0ms,bandwidth=512kbit")).toEqual({
      rttMs: 200,
      jitterMs: 0,
      bandwidthKbit: 512,
    });
    expect(parseWanProfile("bandwidth=1gbit").bandwidthKbit).toBe(1_000_000);
  });

  it("refuses bad values, unknown and repeated keys, naming them", () => {
    expect(() => parseWanProfile("rtt=80")).toThrow(/rtt=80: expected a duration such as 80ms/);
    expect(() => parseWanProfile("bandwidth=100mb")).toThrow(
      /bandwidth=100mb: expected a rate such as 100mbit/,
    );
    expect(() => parseWanProfile("latency=80ms")).toThrow(
      /unknown key "latency": use rtt, jitter and bandwidth/,
    );
    expect(() => parseWanProfile("rtt=80ms,rtt=90ms")).toThrow(/rtt is given twice/);
    expect(() => parseWanProfile("rtt")).toThrow(/"rtt": expected key=value pairs/);
    expect(() => parseWanProfile("rtt=10ms,jitter=20ms")).toThrow(/jitter 20ms is larger than the rtt 10ms/);
  });

  it("reads a pair of sites, also when site ids hold '-'", () => {
    expect(parseWanPair("nyc-sfo", sites)).toEqual(["nyc", "sfo"]);
    expect(parseWanPair("us-east-eu-west", ["us-east", "eu-west"])).toEqual(["us-east", "eu-west"]);
    expect(() => parseWanPair("nyc-par", sites)).toThrow(
      /"nyc-par" is not a pair of the stack's sites \(nyc, lon, sfo\)/,
    );
    expect(() => parseWanPair("nyc-nyc", sites)).toThrow(/two different sites/);
  });

  it("gives both directions of an overridden pair its profile, the others the stack's", () => {
    const layout = wanLayoutOf("rtt=80ms", ["nyc-sfo:rtt=150ms,bandwidth=20mbit"], sites);
    const pairProfile = { rttMs: 150, jitterMs: 5, bandwidthKbit: 20_000 };
    expect(profileOf(layout, { from: "nyc", to: "sfo" })).toEqual(pairProfile);
    expect(profileOf(layout, { from: "sfo", to: "nyc" })).toEqual(pairProfile);
    expect(profileOf(layout, { from: "nyc", to: "lon" })).toEqual(DEFAULT_WAN_PROFILE);
    expect(() => wanLayoutOf(undefined, ["nyc-sfo:rtt=10ms", "sfo-nyc:rtt=20ms"], sites)).toThrow(
      /pair sfo-nyc is given twice/,
    );
    expect(() => wanLayoutOf(undefined, ["nyc-sfo"], sites)).toThrow(/expected <site>-<site>:<profile>/);
    expect(() => wanLayoutOf(undefined, [], ["nyc"])).toThrow(/at least two sites/);
  });

  it("selects both directions of a pair unless one way, and every direction for all", () => {
    expect(selectDirections("nyc-lon", sites)).toEqual([
      { from: "nyc", to: "lon" },
      { from: "lon", to: "nyc" },
    ]);
    expect(selectDirections("nyc-lon", sites, { oneWay: true })).toEqual([{ from: "nyc", to: "lon" }]);
    expect(selectDirections("all", sites)).toHaveLength(6);
    expect(() => selectDirections("all", sites, { oneWay: true })).toThrow(/needs a pair/);
  });
});

describe("WAN plan", () => {
  it("puts the API after the sites' ports, then four ports per direction", () => {
    expect(wanPorts(41000, sites, 10).toxiproxy).toBe(41030);
    expect(wanDirections(sites)).toHaveLength(6);
    expect(directionPorts(41000, sites, 10, { from: "nyc", to: "lon" })).toEqual({
      kafkaProxy: 41031,
      registryProxy: 41032,
      s3Proxy: 41033,
      kafkaListener: 41034,
    });
    expect(directionPorts(41000, sites, 10, { from: "sfo", to: "lon" }).kafkaListener).toBe(41054);
    expect(lastStackPort(41000, sites, 10, true)).toBe(41054);
    expect(lastStackPort(41000, sites, 10, false)).toBe(41029);
  });

  it("adds half the RTT and jitter on each direction and caps each direction's bandwidth in KB/s", () => {
    const toxics = profileToxics({ rttMs: 81, jitterMs: 5, bandwidthKbit: 100_000 });
    expect(toxics).toEqual([
      {
        name: "latency-upstream",
        type: "latency",
        stream: "upstream",
        attributes: { latency: 41, jitter: 3 },
      },
      { name: "bandwidth-upstream", type: "bandwidth", stream: "upstream", attributes: { rate: 12_500 } },
      {
        name: "latency-downstream",
        type: "latency",
        stream: "downstream",
        attributes: { latency: 40, jitter: 2 },
      },
      { name: "bandwidth-downstream", type: "bandwidth", stream: "downstream", attributes: { rate: 12_500 } },
    ]);
    expect(BLACKHOLE_TOXICS.map((t) => [t.type, t.stream, t.attributes])).toEqual([
      ["timeout", "upstream", { timeout: 0 }],
      ["timeout", "downstream", { timeout: 0 }],
    ]);
  });

  it("gives the broker one listener per remote site, advertised at that direction's proxy", () => {
    const wanListeners = [{ name: "WAN_NYC", port: 41034, advertisedPort: 41031 }];
    const plain = lines(serverProperties({ ports: sitePorts(41000, 1), logDir: "/d", wanListeners }));
    expect(plain).toEqual(
      expect.arrayContaining([
        "listeners=PLAINTEXT://127.0.0.1:41010,CONTROLLER://127.0.0.1:41011,WAN_NYC://127.0.0.1:41034",
        "advertised.listeners=PLAINTEXT://127.0.0.1:41010,WAN_NYC://127.0.0.1:41031",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,WAN_NYC:PLAINTEXT",
      ]),
    );
    const tls = { keystore: "/k.p12", password: "pw" };
    const secure = lines(serverProperties({ ports: sitePorts(41000, 1), logDir: "/d", tls, wanListeners }));
    expect(secure).toEqual(
      expect.arrayContaining([
        "advertised.listeners=SASL_SSL://127.0.0.1:41010,INTERNAL://127.0.0.1:41015,WAN_NYC://127.0.0.1:41031",
        "listener.security.protocol.map=SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT,WAN_NYC:SASL_SSL",
        "listener.name.wan_nyc.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
      ]),
    );
  });

  it("counts a WAN added, removed or changed as a layout change", () => {
    const plain: StackLayout = { dataDir: "/d", basePort: 41000, sites: ["nyc", "lon"] };
    const wan = { ...plain, wan: wanLayoutOf(undefined, [], plain.sites) };
    expect(layoutChange(plain, wan)).toBe("no WAN -> --wan rtt=80ms,jitter=5ms,bandwidth=100mbit");
    const changed = { ...plain, wan: wanLayoutOf("rtt=10ms", ["nyc-lon:bandwidth=512kbit"], plain.sites) };
    expect(layoutChange(wan, changed)).toBe(
      "--wan rtt=80ms,jitter=5ms,bandwidth=100mbit -> " +
        "--wan rtt=10ms,jitter=5ms,bandwidth=100mbit --wan-pair nyc-lon:rtt=10ms,jitter=5ms,bandwidth=512kbit",
    );
    expect(layoutChange(wan, { ...wan })).toBeUndefined();
  });
});

describe("WAN addresses for clients", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-wan-unit-"));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const stack = new LocalStack({
    dataDir,
    sites,
    basePort: 41000,
    wan: wanLayoutOf(undefined, [], sites),
  });
  const endpoints = stack.endpoints();

  it("gives each site the addresses each other site reaches it at: that direction's proxies", () => {
    const lon = endpoints.sites[1]!;
    expect(lon.reachedFrom?.nyc).toEqual({
      kafka: { brokers: ["127.0.0.1:41031"] },
      registry: { url: "http://127.0.0.1:41032/apis/ccompat/v7" },
      objectStore: { endpoint: "http://127.0.0.1:41033" },
    });
    expect(Object.keys(lon.reachedFrom ?? {})).toEqual(["nyc", "sfo"]);
    const env = envLines(endpoints, false, "/d");
    expect(env).toContain("export TANDEM_LON_FROM_NYC_KAFKA_BROKERS=127.0.0.1:41031");
    expect(env).toContain("export TANDEM_LON_FROM_NYC_S3_ENDPOINT=http://127.0.0.1:41033");
  });

  it("puts reachedFrom into the local topology for the topology's sites only", () => {
    const two = localTopology({ sites: endpoints.sites.slice(0, 2) }, meshLinks(["nyc", "lon"]));
    expect(two.sites.map((s) => Object.keys(s.reachedFrom ?? {}))).toEqual([["lon"], ["nyc"]]);
    expect(siteConfigOf(endpoints.sites[0]!).reachedFrom).toBeUndefined();
  });
});
