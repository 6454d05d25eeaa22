import { describe, expect, it } from "vitest";
import { isRecordFault } from "../../../services/materializer/src/db/record-fault";

const postgresError = (code: string) => Object.assign(new Error(`error ${code}`), { code });

describe("isRecordFault", () => {
  it.each([
    ["22021", "a NUL byte or invalid UTF-8 in text"],
    ["22P05", "an unsupported Unicode escape in jsonb"],
    ["22008", "a timestamp out of range"],
    ["22003", "a number out of range"],
    ["23514", "a check constraint"],
  ])("%s (%s) belongs to the record", (code) => {
    expect(isRecordFault(postgresError(code))).toBe(true);
  });

  it.each([
    ["57P01", "the server shutting down"],
    ["08006", "a connection failure"],
    ["40P01", "a deadlock"],
    ["53100", "a full disk"],
    ["ECONNREFUSED", "a refused connection"],
  ])("%s (%s) may pass on retry", (code) => {
    expect(isRecordFault(postgresError(code))).toBe(false);
  });

  it("an error without a code, or not an error at all, is not a record fault", () => {
    expect(isRecordFault(new Error("timeout exceeded when trying to connect"))).toBe(false);
    expect(isRecordFault("22021")).toBe(false);
    expect(isRecordFault(undefined)).toBe(false);
  });
});
