import { describe, expect, it } from "vitest";
import { isUuid, validateCallCompleted, validateUserChanged, type UserChanged } from "@tandem/events";
import type { UserEdit } from "../../../services/recorder/src/publisher";
import {
  CallGenerator,
  Random,
  UserChangeGenerator,
  createPopulation,
} from "../../../services/recorder/src/simulator";

const E164 = /^\+[1-9]\d{7,14}$/;
const ENDED_AT = Date.parse("2026-11-20T10:00:00Z");

function world(seed: string) {
  const random = new Random(seed);
  const population = createPopulation(random.fork("population"));
  return {
    population,
    calls: new CallGenerator(random.fork("calls"), population, { maxCallSeconds: 60 }),
    users: new UserChangeGenerator(random.fork("users"), population),
  };
}

function generateCalls(seed: string, count: number) {
  const { calls } = world(seed);
  return Array.from({ length: count }, (_, i) => calls.next(ENDED_AT + i * 1000));
}

/** What the publisher would make of an edit: the event, with a clock ticking once per edit. */
function published(edit: UserEdit, tick: number): UserChanged {
  const changes = edit.changes ?? {};
  return {
    eventId: edit.eventId ?? crypto.randomUUID(),
    userId: edit.userId,
    tenantId: edit.tenantId,
    groupId: edit.groupId,
    operation: edit.operation,
    changedFields: Object.keys(changes) as UserChanged["changedFields"],
    fields: { name: null, email: null, extensions: null, role: null, active: null, ...changes },
    hlc: { wallTimeMs: ENDED_AT + tick, logical: 0 },
    baseVersion: edit.baseVersion ?? {},
    originSite: "sfo",
  };
}

function generateEdits(seed: string, count: number): UserEdit[] {
  const { users } = world(seed);
  return Array.from({ length: count }, (_, i) => {
    const edit = users.next();
    users.acknowledge(published(edit, i));
    return edit;
  });
}

describe("recorder simulator generators", () => {
  it("derives the same tenants, groups and users from the same seed, and others from another", () => {
    const a = world("seed-1").population;
    expect(world("seed-1").population).toEqual(a);
    const other = world("seed-2").population;
    expect(other.tenants.map((t) => t.id)).not.toEqual(a.tenants.map((t) => t.id));
    expect(a.tenants).toHaveLength(3);
    for (const id of [...a.tenants.map((t) => t.id), ...a.users.map((u) => u.id)])
      expect(isUuid(id)).toBe(true);
  });

  it("generates the same calls from the same seed, and others from another", () => {
    expect(generateCalls("seed-1", 50)).toEqual(generateCalls("seed-1", 50));
    const ids = (seed: string) => generateCalls(seed, 20).map((c) => c.metadata.callId);
    expect(ids("seed-2")).not.toEqual(ids("seed-1"));
    expect(new Set(ids("seed-1")).size).toBe(20);
  });

  it("generates calls that pass event validation, between the population and E.164 numbers", () => {
    const { population, calls } = world("valid");
    const userIds = new Set(population.users.map((u) => u.id));
    const directions = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const { metadata } = calls.next(ENDED_AT);
      directions.add(metadata.direction);
      const event = {
        ...metadata,
        eventId: crypto.randomUUID(),
        originSite: "sfo",
        audio: null,
      };
      expect(validateCallCompleted(event)).toMatchObject({ ok: true });
      expect(metadata.caller.number).toMatch(E164);
      expect(metadata.callee.number).toMatch(E164);
      expect(metadata.endedAtMs).toBe(ENDED_AT);
      expect(metadata.participantUserIds.length).toBe(metadata.direction === "INTERNAL" ? 2 : 1);
      for (const id of metadata.participantUserIds) expect(userIds.has(id)).toBe(true);
      const tenant = population.tenants.find((t) => t.id === metadata.tenantId);
      expect(tenant?.groups.some((g) => g.id === metadata.groupId)).toBe(true);
    }
    expect([...directions].sort()).toEqual(["INBOUND", "INTERNAL", "OUTBOUND"]);
  });

  it("generates the same user changes from the same seed", () => {
    expect(generateEdits("seed-1", 200)).toEqual(generateEdits("seed-1", 200));
    expect(generateEdits("seed-2", 20)).not.toEqual(generateEdits("seed-1", 20));
  });

  it("creates users with every field, edits some fields, and deletes only users it created beyond the population", () => {
    const { population } = world("users");
    const callUsers = new Set(population.users.map((u) => u.id));
    const created = new Set<string>();
    const edits = generateEdits("users", 400);
    let updates = 0;
    edits.forEach((edit, i) => {
      const event = published(edit, i);
      expect(validateUserChanged(event)).toMatchObject({ ok: true });
      if (edit.operation === "DELETE") {
        expect(created.has(edit.userId)).toBe(true);
        expect(callUsers.has(edit.userId)).toBe(false);
        created.delete(edit.userId);
      } else if (created.has(edit.userId)) {
        updates++;
        const count = Object.keys(edit.changes ?? {}).length;
        expect(count).toBeGreaterThanOrEqual(1);
        expect(count).toBeLessThanOrEqual(2);
      } else {
        expect(Object.keys(edit.changes ?? {}).sort()).toEqual([
          "active",
          "email",
          "extensions",
          "name",
          "role",
        ]);
        expect(edit.baseVersion).toEqual({});
        created.add(edit.userId);
      }
    });
    expect(updates).toBeGreaterThan(100);
    expect(edits.filter((e) => e.operation === "DELETE").length).toBeGreaterThan(10);
    // The population is provisioned first, so the users that calls name exist.
    const firstCreates = edits.filter(
      (e) => e.operation === "UPSERT" && Object.keys(e.changes ?? {}).length === 5,
    );
    expect(firstCreates.slice(0, callUsers.size).every((e) => callUsers.has(e.userId))).toBe(true);
  });

  it("bases an edit on the version its last acknowledged edit produced at this site", () => {
    const { users } = world("versions");
    const first = users.next();
    const firstEvent = published(first, 1);
    users.acknowledge(firstEvent);
    let next = users.next();
    for (let i = 2; next.userId !== first.userId && i < 10_000; i++) {
      users.acknowledge(published(next, i));
      next = users.next();
    }
    expect(next.baseVersion).toEqual({ sfo: firstEvent.hlc });
  });

  it("does not let user edits change the names calls are generated with", () => {
    const before = generateCalls("coupling", 30);
    const { users, calls } = world("coupling");
    for (let i = 0; i < 300; i++) users.acknowledge(published(users.next(), i));
    expect(Array.from({ length: 30 }, (_, i) => calls.next(ENDED_AT + i * 1000))).toEqual(before);
  });
});
