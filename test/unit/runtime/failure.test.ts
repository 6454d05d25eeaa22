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
import { failureKind, isPermanent, PermanentError } from "@tandem/runtime";

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

  it("is permanent for what PostgreSQL refuses in the record itself (classes 22 and 23)", () => {
    expect(isPermanent(withSqlState("22021"))).toBe(true);
    expect(isPermanent(withSqlState("23505"))).toBe(true);
  });

  it("is transient for outages and anything unknown", () => {
    expect(failureKind(withSqlState("57P01"))).toBe("transient");
    expect(failureKind(withSqlState("08006"))).toBe("transient");
    expect(failureKind(Object.assign(new Error("connect"), { code: "ECONNREFUSED" }))).toBe("transient");
    expect(failureKind(new RegistryError("lookup", new Error("socket hang up")))).toBe("transient");
    expect(failureKind(new ObjectStoreError("unreachable", "store down"))).toBe("transient");
    expect(failureKind("a string")).toBe("transient");
    expect(failureKind(undefined)).toBe("transient");
  });
});
