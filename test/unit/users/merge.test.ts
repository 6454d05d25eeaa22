import type { UserChanged } from "@tandem/events";
import { describe, expect, it } from "vitest";
import {
  applyUserChanged,
  conflictsOf,
  emptyUserState,
  serializeUserState,
  visibleUser,
} from "../../../services/materializer/src/core/users";
import type { MergePolicy, UserState } from "../../../services/materializer/src/core/users";
import { created, hlc, permutations, remove, upsert, USER_ID } from "./fixtures";

const LWW: MergePolicy = { kind: "lww" };
const MANUAL: MergePolicy = { kind: "manual" };
const ALL_POLICIES: MergePolicy[] = [LWW, { kind: "priority", siteOrder: ["syd", "lon", "nyc"] }, MANUAL];

function applyAll(events: readonly UserChanged[]): UserState {
  return events.reduce(applyUserChanged, emptyUserState(USER_ID));
}

/** Applies the events in every order, checks all orders agree, and returns the state. */
function converged(events: readonly UserChanged[]): UserState {
  const [first, ...others] = permutations(events).map(applyAll);
  if (first === undefined) throw new Error("no events");
  for (const other of others) expect(serializeUserState(other)).toBe(serializeUserState(first));
  return first;
}

function visible(state: UserState, policy: MergePolicy) {
  const user = visibleUser(state, policy);
  if (user === undefined) throw new Error("user not visible");
  return user;
}

describe("user merge rules", () => {
  it("keeps concurrent edits of different fields of the same user", () => {
    const rename = upsert({
      id: "evt-lon",
      site: "lon",
      at: 200,
      base: { nyc: 100 },
      set: { name: "Ada L." },
    });
    const reMail = upsert({
      id: "evt-syd",
      site: "syd",
      at: 150,
      base: { nyc: 100 },
      set: { email: "al@x.org" },
    });
    const state = converged([created, rename, reMail]);
    for (const policy of ALL_POLICIES) {
      const user = visible(state, policy);
      expect(user.fields).toEqual({
        name: "Ada L.",
        email: "al@x.org",
        extensions: ["1001"],
        role: "agent",
        active: true,
      });
      expect(user.deleted).toBe(false);
      expect(user.version).toEqual({ lon: hlc(200), nyc: hlc(100), syd: hlc(150) });
      expect(conflictsOf(state, policy)).toEqual([]);
    }
  });

  it("ignores a dominated edit even when its clock is later", () => {
    const stale = upsert({
      id: "evt-stale",
      site: "lon",
      at: 500,
      base: { nyc: 100 },
      set: { name: "Stale" },
    });
    // nyc saw lon's edit but its wall clock lags: causality, not the clock, decides.
    const newer = upsert({
      id: "evt-new",
      site: "nyc",
      at: 200,
      base: { nyc: 100, lon: 500 },
      set: { name: "New" },
    });
    const state = converged([created, stale, newer]);
    expect(state.registers.name.map((sibling) => sibling.eventId)).toEqual(["evt-new"]);
    for (const policy of [...ALL_POLICIES, { kind: "priority", siteOrder: ["lon"] } as const]) {
      expect(visible(state, policy).fields.name).toBe("New");
      expect(conflictsOf(state, policy)).toEqual([]);
    }
  });

  describe("concurrent edits of one field", () => {
    const fromLon = upsert({ id: "evt-lon", site: "lon", at: 300, base: { nyc: 100 }, set: { name: "Lon" } });
    const fromSyd = upsert({ id: "evt-syd", site: "syd", at: 200, base: { nyc: 100 }, set: { name: "Syd" } });
    const state = converged([created, fromLon, fromSyd]);
    const lonSibling = state.registers.name.find((sibling) => sibling.eventId === "evt-lon");
    const sydSibling = state.registers.name.find((sibling) => sibling.eventId === "evt-syd");

    it("lww shows the later clock and records the conflict as resolved", () => {
      expect(visible(state, LWW).fields.name).toBe("Lon");
      expect(conflictsOf(state, LWW)).toEqual([
        {
          userId: USER_ID,
          field: "name",
          siblings: [lonSibling, sydSibling],
          winner: lonSibling,
          status: "resolved-by-policy",
        },
      ]);
    });

    it("lww breaks a clock tie by origin site, then by event id", () => {
      const tiedLon = upsert({ id: "evt-b", site: "lon", at: 300, base: { nyc: 100 }, set: { name: "Lon" } });
      const tiedSyd = upsert({ id: "evt-a", site: "syd", at: 300, base: { nyc: 100 }, set: { name: "Syd" } });
      expect(visible(converged([created, tiedLon, tiedSyd]), LWW).fields.name).toBe("Syd");
      // Equal versions only come from a misbehaving clock; both are kept so the order cannot matter.
      const twinA = upsert({ id: "evt-a", site: "lon", at: 300, base: { nyc: 100 }, set: { name: "A" } });
      const twinB = upsert({ id: "evt-b", site: "lon", at: 300, base: { nyc: 100 }, set: { name: "B" } });
      const twins = converged([created, twinA, twinB]);
      expect(twins.registers.name).toHaveLength(2);
      expect(visible(twins, LWW).fields.name).toBe("B");
    });

    it("priority shows the first site in the order, whatever the clocks", () => {
      const policy: MergePolicy = { kind: "priority", siteOrder: ["syd", "lon", "nyc"] };
      expect(visible(state, policy).fields.name).toBe("Syd");
      expect(conflictsOf(state, policy)).toEqual([
        expect.objectContaining({ field: "name", winner: sydSibling, status: "resolved-by-policy" }),
      ]);
    });

    it("priority ranks unlisted sites last and falls back to lww between them", () => {
      expect(visible(state, { kind: "priority", siteOrder: ["nyc"] }).fields.name).toBe("Lon");
      expect(visible(state, { kind: "priority", siteOrder: ["nyc", "syd"] }).fields.name).toBe("Syd");
    });

    it("manual shows the lww value provisionally and keeps the conflict open", () => {
      expect(visible(state, MANUAL).fields.name).toBe("Lon");
      expect(conflictsOf(state, MANUAL)).toEqual([
        {
          userId: USER_ID,
          field: "name",
          siblings: [lonSibling, sydSibling],
          winner: lonSibling,
          status: "open",
        },
      ]);
    });

    it("does not report concurrent writes of the same value as a conflict", () => {
      const same = upsert({ id: "evt-same", site: "syd", at: 200, base: { nyc: 100 }, set: { name: "Lon" } });
      const agreed = converged([created, fromLon, same]);
      expect(agreed.registers.name).toHaveLength(2);
      for (const policy of ALL_POLICIES) expect(conflictsOf(agreed, policy)).toEqual([]);
    });
  });

  describe("tombstone against a concurrent stale upsert", () => {
    const deletion = remove({ id: "evt-del", site: "lon", at: 300, base: { nyc: 100 } });
    const staleEarlier = upsert({
      id: "evt-up",
      site: "syd",
      at: 200,
      base: { nyc: 100 },
      set: { role: "admin" },
    });
    const staleLater = upsert({
      id: "evt-up",
      site: "syd",
      at: 400,
      base: { nyc: 100 },
      set: { role: "admin" },
    });

    it("lww: the later of the two wins", () => {
      const deleted = converged([created, deletion, staleEarlier]);
      expect(visible(deleted, LWW).deleted).toBe(true);
      expect(conflictsOf(deleted, LWW)).toEqual([
        expect.objectContaining({ field: "deleted", status: "resolved-by-policy" }),
      ]);
      const alive = converged([created, deletion, staleLater]);
      expect(visible(alive, LWW).deleted).toBe(false);
      expect(visible(alive, LWW).fields.role).toBe("admin");
      expect(conflictsOf(alive, LWW)).toEqual([
        expect.objectContaining({ field: "deleted", winner: expect.objectContaining({ eventId: "evt-up" }) }),
      ]);
    });

    it("priority: the site first in the order wins", () => {
      const state = converged([created, deletion, staleEarlier]);
      expect(visible(state, { kind: "priority", siteOrder: ["syd", "lon"] }).deleted).toBe(false);
      expect(visible(state, { kind: "priority", siteOrder: ["lon", "syd"] }).deleted).toBe(true);
    });

    it("manual: the lww pick is shown and the deletion conflict stays open", () => {
      const state = converged([created, deletion, staleEarlier]);
      expect(visible(state, MANUAL).deleted).toBe(true);
      expect(conflictsOf(state, MANUAL)).toEqual([
        expect.objectContaining({
          field: "deleted",
          status: "open",
          winner: expect.objectContaining({ value: true }),
        }),
      ]);
    });

    it("a delete that saw the upsert wins under every policy, even against a later clock", () => {
      const edit = upsert({ id: "evt-up", site: "syd", at: 900, base: { nyc: 100 }, set: { role: "admin" } });
      const informed = remove({ id: "evt-del", site: "lon", at: 300, base: { nyc: 100, syd: 900 } });
      const state = converged([created, edit, informed]);
      for (const policy of ALL_POLICIES) {
        expect(visible(state, policy).deleted).toBe(true);
        expect(conflictsOf(state, policy)).toEqual([]);
      }
    });
  });

  it("revives a deleted user with an upsert that saw the delete, keeping the other fields", () => {
    const deletion = remove({ id: "evt-del", site: "lon", at: 300, base: { nyc: 100 } });
    const revival = upsert({
      id: "evt-rev",
      site: "nyc",
      at: 400,
      base: { nyc: 100, lon: 300 },
      set: { active: false },
    });
    const state = converged([created, deletion, revival]);
    for (const policy of ALL_POLICIES) {
      const user = visible(state, policy);
      expect(user.deleted).toBe(false);
      expect(user.fields).toEqual({ ...created.fields, active: false });
      expect(conflictsOf(state, policy)).toEqual([]);
    }
  });

  it("treats a redelivered event as a no-op, also after it was superseded", () => {
    const edit = upsert({ id: "evt-lon", site: "lon", at: 200, base: { nyc: 100 }, set: { name: "Ada L." } });
    const once = applyAll([created, edit]);
    expect(serializeUserState(applyUserChanged(once, edit))).toBe(serializeUserState(once));
    expect(serializeUserState(applyAll([created, edit, created, edit]))).toBe(serializeUserState(once));
  });

  it("tenant and group come from the latest write, whatever the order", () => {
    const moved = {
      ...upsert({ id: "evt-move", site: "lon", at: 200, base: { nyc: 100 }, set: {} }),
      groupId: "g2",
    };
    const concurrent = {
      ...upsert({ id: "evt-c", site: "syd", at: 150, base: { nyc: 100 }, set: {} }),
      groupId: "g3",
    };
    const state = converged([created, moved, concurrent]);
    expect(visible(state, { kind: "priority", siteOrder: ["syd"] }).groupId).toBe("g2");
  });

  it("shows no user before any event", () => {
    expect(visibleUser(emptyUserState(USER_ID), LWW)).toBeUndefined();
  });

  it("leaves the given state and event untouched", () => {
    const state = deepFreeze(applyAll([created]));
    const edit = deepFreeze(
      upsert({ id: "evt-lon", site: "lon", at: 200, base: { nyc: 100 }, set: { extensions: ["7"] } }),
    );
    const before = serializeUserState(state);
    const after = applyUserChanged(state, edit);
    expect(serializeUserState(state)).toBe(before);
    expect(visible(after, LWW).fields.extensions).toEqual(["7"]);
    const written = after.registers.extensions[0];
    expect(written?.value).not.toBe(edit.fields.extensions);
    expect(written?.hlc).not.toBe(edit.hlc);
  });

  it("refuses an event for another user", () => {
    expect(() => applyUserChanged(emptyUserState("someone-else"), created)).toThrow(/not someone-else/);
  });
});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
