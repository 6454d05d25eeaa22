import type { UserChanged } from "@tandem/events";
import { describe, expect, it } from "vitest";
import {
  applyUserChanged,
  conflictsOf,
  emptyUserState,
  resolutionFor,
  serializeUserState,
  visibleUser,
} from "../../../services/materializer/src/core/users";
import type { MergePolicy, UserState } from "../../../services/materializer/src/core/users";
import { created, GROUP_ID, hlc, permutations, remove, TENANT_ID, upsert, USER_ID } from "./fixtures";

const MANUAL: MergePolicy = { kind: "manual" };

function applyAll(events: readonly UserChanged[], state = emptyUserState(USER_ID)): UserState {
  return events.reduce(applyUserChanged, state);
}

const fromLon = upsert({
  id: "evt-lon",
  site: "lon",
  at: 300,
  base: { nyc: 100 },
  set: { name: "Lon", role: "admin" },
});
const fromSyd = upsert({ id: "evt-syd", site: "syd", at: 200, base: { nyc: 100 }, set: { name: "Syd" } });
const stamp = { eventId: "evt-resolution", hlc: hlc(500), originSite: "nyc" };

describe("manual conflict resolution", () => {
  it("opens a conflict, then the administrator's event clears it at every site in any order", () => {
    const atNyc = applyAll([created, fromLon, fromSyd]);
    expect(conflictsOf(atNyc, MANUAL)).toEqual([expect.objectContaining({ field: "name", status: "open" })]);
    expect(visibleUser(atNyc, MANUAL)?.fields.name).toBe("Lon");

    const resolution = resolutionFor(atNyc, { field: "name", value: "Syd" }, stamp);
    expect(resolution).toEqual({
      eventId: "evt-resolution",
      userId: USER_ID,
      tenantId: TENANT_ID,
      groupId: GROUP_ID,
      operation: "UPSERT",
      changedFields: ["name"],
      fields: { name: "Syd", email: null, extensions: null, role: null, active: null },
      hlc: hlc(500),
      baseVersion: { lon: hlc(300), nyc: hlc(100), syd: hlc(200) },
      originSite: "nyc",
    });

    // Other sites receive the same four events in any order, the resolution possibly before a sibling.
    const states = permutations([created, fromLon, fromSyd, resolution]).map((events) => applyAll(events));
    for (const state of states) {
      expect(serializeUserState(state)).toBe(serializeUserState(states[0] as UserState));
      expect(conflictsOf(state, MANUAL)).toEqual([]);
      const user = visibleUser(state, MANUAL);
      expect(user?.fields).toEqual({ ...created.fields, name: "Syd", role: "admin" });
      expect(user?.deleted).toBe(false);
    }
  });

  it("resolves only the chosen field's conflict", () => {
    const mail = upsert({
      id: "evt-syd-mail",
      site: "syd",
      at: 250,
      base: { nyc: 100 },
      set: { email: "s@x" },
    });
    const lonMail = upsert({
      id: "evt-lon-mail",
      site: "lon",
      at: 260,
      base: { nyc: 100 },
      set: { email: "l@x" },
    });
    const state = applyAll([created, fromLon, fromSyd, mail, lonMail]);
    expect(conflictsOf(state, MANUAL).map((conflict) => conflict.field)).toEqual(["name", "email"]);
    const resolved = applyUserChanged(state, resolutionFor(state, { field: "email", value: "s@x" }, stamp));
    expect(conflictsOf(resolved, MANUAL)).toEqual([
      expect.objectContaining({ field: "name", status: "open" }),
    ]);
  });

  it("settles a deletion conflict with a delete or an upsert that dominates both sides", () => {
    const deletion = remove({ id: "evt-del", site: "lon", at: 300, base: { nyc: 100 } });
    const edit = upsert({ id: "evt-up", site: "syd", at: 400, base: { nyc: 100 }, set: { role: "admin" } });
    const state = applyAll([created, deletion, edit]);
    expect(conflictsOf(state, MANUAL)).toEqual([
      expect.objectContaining({ field: "deleted", status: "open" }),
    ]);

    const keepDeleted = resolutionFor(state, { field: "deleted", value: true }, stamp);
    expect(keepDeleted).toMatchObject({ operation: "DELETE", changedFields: [] });
    const tombstone = applyUserChanged(state, keepDeleted);
    expect(visibleUser(tombstone, MANUAL)?.deleted).toBe(true);
    expect(conflictsOf(tombstone, MANUAL)).toEqual([]);

    const keepAlive = resolutionFor(state, { field: "deleted", value: false }, stamp);
    expect(keepAlive).toMatchObject({ operation: "UPSERT", changedFields: [] });
    const alive = applyUserChanged(state, keepAlive);
    expect(visibleUser(alive, MANUAL)?.deleted).toBe(false);
    expect(visibleUser(alive, MANUAL)?.fields.role).toBe("admin");
    expect(conflictsOf(alive, MANUAL)).toEqual([]);
  });

  it("hides a tombstone's field conflicts and refuses to resolve them, as that would revive the user", () => {
    const deletion = remove({ id: "evt-del", site: "nyc", at: 600, base: { nyc: 100, lon: 300, syd: 200 } });
    const state = applyAll([created, fromLon, fromSyd, deletion]);
    expect(visibleUser(state, MANUAL)?.deleted).toBe(true);
    expect(conflictsOf(state, MANUAL)).toEqual([]);
    expect(() => resolutionFor(state, { field: "name", value: "Syd" }, { ...stamp, hlc: hlc(700) })).toThrow(
      /resolve "deleted" first/,
    );

    const revival = upsert({
      id: "evt-rev",
      site: "lon",
      at: 700,
      base: { nyc: 600, lon: 300, syd: 200 },
      set: {},
    });
    expect(conflictsOf(applyUserChanged(state, revival), MANUAL)).toEqual([
      expect.objectContaining({ field: "name", status: "open" }),
    ]);
  });

  it("refuses a clock that is not past the resolving site's entry, since the event could not dominate", () => {
    const state = applyAll([created, fromLon, fromSyd]);
    expect(() => resolutionFor(state, { field: "name", value: "Syd" }, { ...stamp, hlc: hlc(100) })).toThrow(
      RangeError,
    );
    expect(() =>
      resolutionFor(state, { field: "name", value: "Syd" }, { ...stamp, hlc: hlc(100, 1) }),
    ).not.toThrow();
  });

  it("refuses a user with no state", () => {
    expect(() => resolutionFor(emptyUserState(USER_ID), { field: "name", value: "x" }, stamp)).toThrow(
      /no state/,
    );
  });
});
