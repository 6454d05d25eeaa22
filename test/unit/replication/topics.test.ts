import { describe, expect, it } from "vitest";
import {
  baseTopic,
  isInternalTopic,
  isLocalTopic,
  originOf,
  remoteTopic,
  streamOf,
  targetTopic,
  upstreamTopic,
} from "@tandem/replication";

describe("replication policy", () => {
  it("prefixes a local topic with its origin site", () => {
    expect(remoteTopic("nyc", "calls.completed")).toBe("nyc.calls.completed");
    expect(remoteTopic("lon-2", "users.changed")).toBe("lon-2.users.changed");
  });

  it("refuses to build a remote topic from a remote, internal or unknown topic, or a bad site id", () => {
    expect(() => remoteTopic("lon", "nyc.calls.completed")).toThrow(RangeError);
    expect(() => remoteTopic("lon", "tandem.dlq")).toThrow(RangeError);
    expect(() => remoteTopic("lon", "orders")).toThrow(RangeError);
    expect(() => remoteTopic("tandem", "calls.completed")).toThrow(RangeError);
    expect(() => remoteTopic("a.b", "calls.completed")).toThrow(RangeError);
  });

  it("splits a remote topic into origin and upstream topic", () => {
    expect(originOf("nyc.calls.completed")).toBe("nyc");
    expect(upstreamTopic("nyc.calls.completed")).toBe("calls.completed");
    expect(originOf("sgp.users.changed")).toBe("sgp");
  });

  it("does not take a local topic's own dot for an origin prefix", () => {
    expect(originOf("calls.completed")).toBeUndefined();
    expect(upstreamTopic("users.changed")).toBeUndefined();
    expect(isLocalTopic("calls.completed")).toBe(true);
    expect(isLocalTopic("nyc.calls.completed")).toBe(false);
  });

  it("recognises neither internal, unknown nor doubly prefixed topics as remote", () => {
    for (const topic of [
      "tandem.heartbeats",
      "tandem.users.changed",
      "orders",
      "nyc.orders",
      "lon.nyc.calls.completed",
      "NYC.calls.completed",
    ]) {
      expect(originOf(topic), topic).toBeUndefined();
    }
  });

  it("treats tandem.* as internal", () => {
    expect(isInternalTopic("tandem.dlq")).toBe(true);
    expect(isInternalTopic("tandem.heartbeats")).toBe(true);
    expect(isInternalTopic("calls.completed")).toBe(false);
    expect(isInternalTopic("nyc.calls.completed")).toBe(false);
  });

  it("maps local and remote topics to their base topic and stream", () => {
    expect(baseTopic("calls.completed")).toBe("calls.completed");
    expect(baseTopic("nyc.users.changed")).toBe("users.changed");
    expect(baseTopic("tandem.dlq")).toBeUndefined();
    expect(streamOf("nyc.calls.completed")).toBe("calls");
    expect(streamOf("users.changed")).toBe("users");
    expect(streamOf("orders")).toBeUndefined();
  });

  it("names the target topic after the origin, whatever site the record is read at", () => {
    expect(targetTopic("nyc", "calls.completed")).toBe("nyc.calls.completed");
    // A->B->C: read at B from `nyc.calls.completed`, it lands at C under the same name.
    expect(targetTopic("nyc", "nyc.calls.completed")).toBe("nyc.calls.completed");
    expect(() => targetTopic("nyc", "tandem.heartbeats")).toThrow(RangeError);
  });
});
