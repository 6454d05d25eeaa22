import avro from "avsc";
import { describe, expect, it } from "vitest";
import type { LinkConfig, LinkFilters } from "@tandem/config";
import {
  MAX_EVENT_VALUE_BYTES,
  buildHeaders,
  callCompletedSchema,
  type CallCompleted,
  type KafkaHeaders,
} from "@tandem/events";
import {
  planRecord,
  type PlanContext,
  type PlannerPorts,
  type SourceRecord,
} from "../../../services/bridge/src/core/record-planner";
import { sampleCall } from "../events/fixtures";

const call = sampleCall();
const OTHER_TENANT = "7b0c6a4e-2f1d-4c3b-9a8e-5d6f7e8a9b0c";
const noFilters: LinkFilters = { tenants: { deny: [] }, groups: { deny: [] } };
const onlyCallTenant: LinkFilters = { tenants: { allow: [call.tenantId], deny: [] }, groups: { deny: [] } };

function wire(event: CallCompleted, schemaId = 7): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, avro.Type.forSchema(callCompletedSchema as avro.Schema).toBuffer(event)]);
}

function headersOf(event: CallCompleted, overrides: Partial<{ tenantId: string; path: string[] }> = {}) {
  return buildHeaders({
    eventId: event.eventId,
    origin: event.originSite,
    tenantId: overrides.tenantId ?? event.tenantId,
    groupId: event.groupId,
    path: overrides.path,
  });
}

function record(overrides: Partial<SourceRecord> = {}): SourceRecord {
  return {
    offset: "42",
    timestamp: "1700000100000",
    key: Buffer.from(call.callId),
    value: wire(call),
    headers: headersOf(call),
    ...overrides,
  };
}

function context(filters: LinkFilters = noFilters, overrides: Partial<PlanContext> = {}): PlanContext {
  const link: Pick<LinkConfig, "from" | "to" | "streams" | "filters"> = {
    from: "nyc",
    to: "lon",
    streams: ["calls", "users"],
    filters,
  };
  return { link, linkId: "nyc->lon", topic: "calls.completed", partition: 4, skipBelow: -1n, ...overrides };
}

/** Translation rewrites the schema id to 9; the target topic has 3 partitions. */
const ports: PlannerPorts = {
  translate: (value) => {
    if (value === null) return Promise.resolve({ ok: false, problem: "record has no value" });
    const translated = Buffer.from(value);
    translated.writeInt32BE(9, 1);
    return Promise.resolve({ ok: true, value: translated });
  },
  targetPartition: (_source, _target, partition) => Promise.resolve(partition % 3),
  heartbeatOf: (r) => {
    const parsed = JSON.parse(r.value?.toString() ?? "{}") as { link?: string; emittedAtMs?: number };
    return parsed.link === undefined
      ? undefined
      : { link: parsed.link, emittedAtMs: parsed.emittedAtMs ?? 0 };
  },
};

describe("planning a record for a link", () => {
  it("forwards to the origin's remote topic with the translated value, the path gaining the target", async () => {
    const plan = await planRecord(record(), context(), ports);
    expect(plan).toMatchObject({
      action: "forward",
      topic: "nyc.calls.completed",
      partition: 1,
      key: Buffer.from(call.callId),
      timestamp: "1700000100000",
    });
    if (plan.action !== "forward") throw new Error("not forwarded");
    expect(plan.value?.readInt32BE(1)).toBe(9);
    expect(plan.headers).toEqual({ ...headersOf(call), "tandem-path": "nyc,lon" });
  });

  it("skips, with the routing reason, an event that has been at the target", async () => {
    const plan = await planRecord(
      record({ headers: headersOf(call, { path: ["nyc", "lon"] }) }),
      context(),
      ports,
    );
    expect(plan).toEqual({ action: "skip", reason: "cycle" });
  });

  it("skips an event of a tenant the link's filter keeps out", async () => {
    const headers = headersOf(call, { tenantId: OTHER_TENANT });
    expect(await planRecord(record({ headers }), context(onlyCallTenant), ports)).toEqual({
      action: "skip",
      reason: "filtered-tenant",
    });
  });

  it("dead-letters a record whose tandem headers are missing or malformed, naming each problem", async () => {
    const hostile: KafkaHeaders = { ...headersOf(call), "tandem-origin": "NYC!", "tandem-tenant": undefined };
    const plan = await planRecord(record({ headers: hostile }), context(), ports);
    expect(plan).toMatchObject({ action: "dead-letter", keepValue: true });
    if (plan.action !== "dead-letter") throw new Error("not dead-lettered");
    expect(plan.reason).toMatch(/^malformed tandem headers: /);
    expect(plan.reason).toContain("tandem-origin");
    expect(plan.reason).toContain("tandem-tenant");
  });

  it("dead-letters, on a filtered link, headers that name other identities than the value", async () => {
    const forged = sampleCall({ tenantId: OTHER_TENANT });
    const plan = await planRecord(
      record({ value: wire(forged), headers: headersOf(forged, { tenantId: call.tenantId }) }),
      context(onlyCallTenant),
      ports,
    );
    expect(plan).toEqual({
      action: "dead-letter",
      keepValue: true,
      reason:
        `filtered link: headers name tenant ${call.tenantId} group ${call.groupId}, ` +
        `the value tenant ${OTHER_TENANT} group ${call.groupId}`,
    });
  });

  it("forwards the same mismatch on a link without filters: headers decide nothing there", async () => {
    const forged = sampleCall({ tenantId: OTHER_TENANT });
    const plan = await planRecord(
      record({ value: wire(forged), headers: headersOf(forged, { tenantId: call.tenantId }) }),
      context(),
      ports,
    );
    expect(plan.action).toBe("forward");
  });

  it("dead-letters, on a filtered link, a value whose identities cannot be read", async () => {
    const identity: PlannerPorts = { ...ports, translate: (value) => Promise.resolve({ ok: true, value }) };
    const notWire = await planRecord(record({ value: Buffer.from("{}") }), context(onlyCallTenant), identity);
    expect(notWire).toMatchObject({ action: "dead-letter" });
    if (notWire.action !== "dead-letter") throw new Error("not dead-lettered");
    expect(notWire.reason).toMatch(
      /cannot be read to check the headers: value is not in the Confluent wire format/,
    );
    const cut = await planRecord(
      record({ value: wire(call).subarray(0, 12) }),
      context(onlyCallTenant),
      identity,
    );
    expect(cut).toMatchObject({ action: "dead-letter" });
    if (cut.action !== "dead-letter") throw new Error("not dead-lettered");
    expect(cut.reason).toMatch(/the Avro body ends or breaks before them$/);
  });

  it("dead-letters an oversized value without copying it: it stays at the source", async () => {
    const big = Buffer.alloc(MAX_EVENT_VALUE_BYTES + 1);
    const plan = await planRecord(record({ value: big }), context(), ports);
    expect(plan).toMatchObject({ action: "dead-letter", keepValue: false });
    if (plan.action !== "dead-letter") throw new Error("not dead-lettered");
    expect(plan.reason).toContain("(value not copied: it stays at calls.completed/4@42)");
  });

  it("dead-letters what the target registry can never know, and leaves transient failures to a retry", async () => {
    const plan = await planRecord(record({ value: null }), context(), ports);
    expect(plan).toEqual({
      action: "dead-letter",
      keepValue: true,
      reason: "schema translation: record has no value",
    });
    const down: PlannerPorts = {
      ...ports,
      translate: () => Promise.reject(new Error("registry unreachable")),
    };
    await expect(planRecord(record(), context(), down)).rejects.toThrow("registry unreachable");
  });

  it("forwards the link's own heartbeats and drops other links'", async () => {
    const heartbeat = (link: string) =>
      record({ value: Buffer.from(JSON.stringify({ link, emittedAtMs: 1234 })), headers: {} });
    const at = context(noFilters, { topic: "tandem.heartbeats", partition: 0 });
    expect(await planRecord(heartbeat("nyc->lon"), at, ports)).toEqual({
      action: "forward-heartbeat",
      emittedAtMs: 1234,
    });
    expect(await planRecord(heartbeat("nyc->sfo"), at, ports)).toEqual({
      action: "drop",
      reason: "other-link-heartbeat",
    });
  });

  it("drops, exactly-once, a record the target has already recorded, without asking the registry", async () => {
    const untouchable: PlannerPorts = { ...ports, translate: () => Promise.reject(new Error("asked")) };
    const plan = await planRecord(
      record({ offset: "41" }),
      context(noFilters, { skipBelow: 42n }),
      untouchable,
    );
    expect(plan).toEqual({ action: "drop", reason: "recorded-at-target" });
    expect((await planRecord(record(), context(noFilters, { skipBelow: 42n }), ports)).action).toBe(
      "forward",
    );
  });
});
