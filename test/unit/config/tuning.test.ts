import { describe, expect, it } from "vitest";
import { DEFAULT_TUNING, parseTopology, TopologyError, tuningOf } from "@tandem/config";
import { validDocument, yaml } from "./fixtures";

function withTuning(tuning: unknown): string {
  return yaml({ ...validDocument(), tuning });
}

function problems(text: string): string[] {
  try {
    parseTopology(text);
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyError);
    return (error as TopologyError).problems.map((p) => `${p.path}: ${p.message} (line ${p.line})`);
  }
  throw new Error("expected the topology to be rejected");
}

describe("tuning", () => {
  it("defaults to the figures the services were measured with", () => {
    const topology = parseTopology(yaml(validDocument()));
    expect(topology.tuning).toEqual(DEFAULT_TUNING);
    expect(DEFAULT_TUNING.bridge.heartbeatIntervalMs).toBe(5_000);
    expect(DEFAULT_TUNING.materializer.retry).toEqual({ initialMs: 500, maxMs: 10_000 });
    expect(DEFAULT_TUNING.audio).toMatchObject({ concurrency: 8, leaseMs: 120_000, attempts: 12 });
    expect(tuningOf({})).toBe(DEFAULT_TUNING);
  });

  it("takes durations with units and keeps the defaults of what it leaves out", () => {
    const topology = parseTopology(
      withTuning({
        bridge: {
          heartbeatInterval: "2s",
          fetchMaxWait: "50ms",
          fetchBytesPerPartition: 4_194_304,
          retry: { max: "5m" },
        },
        audio: { concurrency: 16, lease: "1h" },
      }),
    );
    expect(topology.tuning?.bridge).toEqual({
      ...DEFAULT_TUNING.bridge,
      heartbeatIntervalMs: 2_000,
      fetchMaxWaitMs: 50,
      fetchBytesPerPartition: 4_194_304,
      retry: { initialMs: 500, maxMs: 300_000 },
    });
    expect(topology.tuning?.audio).toEqual({ ...DEFAULT_TUNING.audio, concurrency: 16, leaseMs: 3_600_000 });
    expect(topology.tuning?.materializer).toEqual(DEFAULT_TUNING.materializer);
  });

  it("names the field, the line and the expected form of a bad value", () => {
    const text = withTuning({
      bridge: { topicRefresh: "soon", partitionsConcurrently: 0, maxRequestBytes: 10 },
      materializer: { heartbeatInterval: "20s", sessionTimeout: "30s" },
      audio: { retry: { initial: "1h", max: "1m" }, attempts: 2.5, speed: 3 },
    });
    const lineOf = (needle: string) => text.split("\n").findIndex((line) => line.includes(needle)) + 1;
    expect(problems(text)).toEqual([
      `tuning.bridge.topicRefresh: expected a duration such as 200ms, 30s, 2m or 1h, got "soon" (line ${lineOf("soon")})`,
      `tuning.bridge.partitionsConcurrently: expected a whole number from 1 to 64, got 0 (line ${lineOf("partitionsConcurrently")})`,
      `tuning.bridge.maxRequestBytes: expected a number of bytes from 16384 to 104857600, got 10 (line ${lineOf("maxRequestBytes")})`,
      `tuning.materializer.heartbeatInterval: must be at most a third of sessionTimeout (30s) (line ${lineOf("heartbeatInterval")})`,
      `tuning.audio.retry.initial: is longer than max (line ${lineOf("initial")})`,
      `tuning.audio.attempts: expected a whole number, got 2.5 (line ${lineOf("attempts")})`,
      `tuning.audio.speed: unknown field (line ${lineOf("speed")})`,
    ]);
  });
});

describe("site retention", () => {
  const withRetention = (retention: unknown) => {
    const doc = validDocument();
    doc.sites[0]!.retention = retention;
    return yaml(doc);
  };

  it("keeps every record unless the topology says otherwise", () => {
    const topology = parseTopology(yaml(validDocument()));
    expect(topology.sites.map((s) => s.retentionMs)).toEqual([-1, -1]);
    expect(parseTopology(withRetention("forever")).sites[0]?.retentionMs).toBe(-1);
    expect(parseTopology(withRetention("30d")).sites[0]?.retentionMs).toBe(30 * 86_400_000);
  });

  it("refuses what is not forever or a duration of an hour or more", () => {
    expect(problems(withRetention(7))[0]).toMatch(/^sites\[0\]\.retention: expected string, got number/);
    for (const bad of ["soon", "10m"]) {
      expect(problems(withRetention(bad))[0]).toMatch(
        /^sites\[0\]\.retention: expected forever or a duration of at least an hour, such as 30d/,
      );
    }
  });
});
