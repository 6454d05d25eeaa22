import { describe, expect, it } from "vitest";
import {
  AudioKeyError,
  DecodeError,
  HeaderError,
  RegistryError,
  ValidationError,
  WireFormatError,
} from "@tandem/events";
import { ObjectStoreError } from "@tandem/object-store";
import { failureKind, isPermanent, isUnavailable, PermanentError } from "@tandem/runtime";

const withSqlState = (code: string) => Object.assign(new Error(`refused (${code})`), { code });

describe("failure kind", () => {
  it("is permanent for bad input, whichever package found it", () => {
    const at = { topic: "calls.completed", partition: 0, offset: "7" };
    for (const error of [
      new DecodeError("no-magic-byte", at, "value does not start with the magic byte"),
      new ValidationError("CallCompleted", [{ path: "callId", problem: "expected a UUID" }]),
      new HeaderError([{ header: "tandem-origin", kind: "missing", problem: "missing" }]),
      new AudioKeyError("tenantId", "is not a UUID"),
      new WireFormatError("truncated", "shorter than the header"),
      new PermanentError("refused whatever the timing"),
    ]) {
      expect(failureKind(error), error.name).toBe("permanent");
    }
  });

  it.each([
    ["22021", "a NUL byte or invalid UTF-8 in text"],
    ["22P05", "an unsupported Unicode escape in jsonb"],
    ["22008", "a timestamp out of range"],
    ["22003", "a number out of range"],
    ["23514", "a check constraint"],
    ["23505", "a unique constraint"],
  ])("is permanent for PostgreSQL's %s (%s): it belongs to the record", (code) => {
    expect(isPermanent(withSqlState(code))).toBe(true);
  });

  it.each([
    ["57P01", "the server shutting down"],
    ["08006", "a connection failure"],
    ["40P01", "a deadlock"],
    ["53100", "a full disk"],
    ["ECONNREFUSED", "a refused connection"],
  ])("is transient for %s (%s): it may pass on retry", (code) => {
    expect(failureKind(withSqlState(code))).toBe("transient");
  });

  it("is transient for anything unknown", () => {
    expect(failureKind(new Error("timeout exceeded when trying to connect"))).toBe("transient");
    expect(failureKind("22021")).toBe("transient");
    expect(failureKind(new RegistryError("lookup", new Error("socket hang up")))).toBe("transient");
    expect(failureKind(new ObjectStoreError("unreachable", "store down"))).toBe("transient");
    expect(failureKind("a string")).toBe("transient");
    expect(failureKind(undefined)).toBe("transient");
  });
});

describe("unavailable", () => {
  it("is a peer that is not there: no connection, a server going away or short of resources", () => {
    for (const code of ["08006", "57P01", "53300", "ECONNREFUSED"])
      expect(isUnavailable(withSqlState(code))).toBe(true);
  });

  it("is not a refusal for the query itself, nor bad input", () => {
    expect(isUnavailable(withSqlState("42P01"))).toBe(false);
    expect(isUnavailable(withSqlState("22021"))).toBe(false);
    expect(isUnavailable(new PermanentError("refused"))).toBe(false);
  });
});
