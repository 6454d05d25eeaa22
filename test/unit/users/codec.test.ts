import type { UserChanged } from "@tandem/events";
import { describe, expect, it } from "vitest";
import {
  applyUserChanged,
  decodeUserState,
  emptyUserState,
  parseUserState,
  serializeUserState,
} from "../../../services/materializer/src/core/users";
import { created, hlc, remove, upsert, USER_ID } from "./fixtures";

const edits: UserChanged[] = [
  created,
  upsert({
    id: "evt-lon",
    site: "lon",
    at: 300,
    base: { nyc: 100 },
    set: { name: "Lon", extensions: ["2", "1"] },
  }),
  upsert({ id: "evt-syd", site: "syd", at: 200, base: { nyc: 100 }, set: { name: "Syd" } }),
  remove({ id: "evt-del", site: "nyc", at: 250, base: { nyc: 100 } }),
];

describe("user state JSON", () => {
  const state = edits.reduce(applyUserChanged, emptyUserState(USER_ID));

  it("round-trips through text and through an already decoded value", () => {
    const text = serializeUserState(state);
    expect(parseUserState(text)).toEqual(state);
    expect(decodeUserState(JSON.parse(text))).toEqual(state);
    expect(serializeUserState(parseUserState(text))).toBe(text);
  });

  it("is the same text whatever the order of events and of version vector keys", () => {
    const reordered = [...edits].reverse().map((event) => ({
      ...event,
      baseVersion: Object.fromEntries(Object.entries(event.baseVersion).reverse()),
    }));
    const other = reordered.reduce(applyUserChanged, emptyUserState(USER_ID));
    expect(serializeUserState(other)).toBe(serializeUserState(state));
  });

  it("orders integer-like site ids canonically", () => {
    const a = upsert({ id: "e1", site: "10", at: 5, base: { "9": 1 }, set: { name: "x" } });
    const text = serializeUserState(applyUserChanged(emptyUserState(USER_ID), a));
    expect(text).toContain('"version":{"10":{"logical":0,"wallTimeMs":5},"9":{"logical":0,"wallTimeMs":1}}');
  });

  it("normalizes stored siblings: duplicates and dominated ones are dropped, order is canonical", () => {
    const stored = JSON.parse(serializeUserState(state)) as { registers: { name: unknown[] } };
    const sibling = (id: string, wall: number) => ({
      value: id,
      version: { nyc: hlc(wall) },
      hlc: hlc(wall),
      originSite: "nyc",
      eventId: id,
    });
    stored.registers.name = [sibling("b", 2), sibling("a", 1), sibling("b", 2)];
    expect(decodeUserState(stored).registers.name.map((entry) => entry.eventId)).toEqual(["b"]);
  });

  it("rejects text that is not a user state", () => {
    const valid = JSON.parse(serializeUserState(state)) as Record<string, unknown>;
    expect(() => decodeUserState({ ...valid, format: 2 })).toThrow();
    expect(() => decodeUserState({ ...valid, registers: { name: [] } })).toThrow();
    expect(() => parseUserState("{")).toThrow();
  });
});
