import { describe, expect, it } from "vitest";
import { HeaderError, buildHeaders, parseHeaders } from "@tandem/events";
import type { KafkaHeaders } from "@tandem/events";

const ids = {
  eventId: "0b9c6f0e-3f0a-4d55-8a57-6a3f1e0f2c11",
  tenantId: "8d7c6b5a-4e3f-4a1b-8c9d-0e1f2a3b4c5d",
  groupId: "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
};

const valid = (): KafkaHeaders => buildHeaders({ ...ids, origin: "nyc", path: ["nyc", "lon"] });

describe("buildHeaders", () => {
  it("writes the five headers, the path comma-separated", () => {
    expect(valid()).toEqual({
      "tandem-event-id": ids.eventId,
      "tandem-origin": "nyc",
      "tandem-path": "nyc,lon",
      "tandem-tenant": ids.tenantId,
      "tandem-group": ids.groupId,
    });
  });

  it("starts the path at the origin by default", () => {
    expect(buildHeaders({ ...ids, origin: "nyc" })["tandem-path"]).toBe("nyc");
  });

  it("refuses to write headers a consumer would refuse", () => {
    expect(() => buildHeaders({ ...ids, tenantId: "acme", origin: "nyc" })).toThrow(HeaderError);
  });
});

describe("parseHeaders", () => {
  it("reads headers as kafkajs delivers them (Buffers)", () => {
    const asBuffers = Object.fromEntries(
      Object.entries(valid()).map(([k, v]) => [k, Buffer.from(String(v))]),
    );
    expect(parseHeaders(asBuffers)).toEqual({
      ok: true,
      headers: { ...ids, origin: "nyc", path: ["nyc", "lon"] },
    });
  });

  it("accepts a header repeated with the same value, refuses different values", () => {
    expect(parseHeaders({ ...valid(), "tandem-origin": [Buffer.from("nyc"), "nyc"] }).ok).toBe(true);
    expect(parseHeaders({ ...valid(), "tandem-origin": ["nyc", "lon"] })).toEqual({
      ok: false,
      problems: [
        { header: "tandem-origin", kind: "malformed", problem: "header is repeated with different values" },
      ],
    });
  });

  it.each(["tandem-event-id", "tandem-origin", "tandem-path", "tandem-tenant", "tandem-group"])(
    "reports a missing %s",
    (header) => {
      const headers = valid();
      delete headers[header];
      expect(parseHeaders(headers)).toEqual({
        ok: false,
        problems: [{ header, kind: "missing", problem: "header is absent" }],
      });
    },
  );

  it("reports an empty array as missing and no headers at all as five problems", () => {
    expect(parseHeaders({ ...valid(), "tandem-group": [] })).toMatchObject({
      ok: false,
      problems: [{ header: "tandem-group", kind: "missing" }],
    });
    const none = parseHeaders(undefined);
    expect(none.ok ? [] : none.problems.map((p) => p.kind)).toEqual(Array(5).fill("missing"));
  });

  it.each([
    ["tandem-event-id", "not-a-uuid"],
    ["tandem-tenant", "acme"],
    ["tandem-group", ids.groupId.toUpperCase()],
    ["tandem-origin", "New York"],
    ["tandem-path", "nyc,,lon"],
    ["tandem-path", "nyc,LON"],
    ["tandem-path", "nyc,lon,nyc"],
    ["tandem-path", ""],
  ])("reports a malformed %s (%j)", (header, value) => {
    const result = parseHeaders({ ...valid(), [header]: value });
    expect(result).toMatchObject({ ok: false, problems: [{ header, kind: "malformed" }] });
  });

  it("reports a path that does not start at the origin", () => {
    expect(parseHeaders({ ...valid(), "tandem-path": "lon,nyc" })).toMatchObject({
      ok: false,
      problems: [{ header: "tandem-path", kind: "malformed", problem: expect.stringContaining("origin") }],
    });
  });

  it("ignores unrelated headers and does not read inherited properties", () => {
    expect(parseHeaders({ ...valid(), "x-other": "1" }).ok).toBe(true);
    const headers = Object.create({ "tandem-origin": "nyc" }) as KafkaHeaders;
    Object.assign(headers, valid());
    delete headers["tandem-origin"];
    expect(parseHeaders(headers)).toMatchObject({
      ok: false,
      problems: [{ header: "tandem-origin", kind: "missing" }],
    });
  });
});
