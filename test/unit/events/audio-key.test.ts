import { describe, expect, it } from "vitest";
import { AudioKeyError, audioObjectKey } from "@tandem/events";

const tenant = "8d7c6b5a-4e3f-4a1b-8c9d-0e1f2a3b4c5d";
const call = "5f0e8a4c-1d2b-4c3d-9e4f-a1b2c3d4e5f6";

describe("audioObjectKey", () => {
  it("lays out tenant, UTC date and call id", () => {
    expect(audioObjectKey(tenant, Date.UTC(2024, 1, 29, 12), call)).toBe(
      `tenants/${tenant}/2024/02/29/${call}.wav`,
    );
  });

  it("dates by UTC, not by the local time zone", () => {
    // 23:30 UTC on 31 Dec is already 1 Jan east of Greenwich.
    expect(audioObjectKey(tenant, Date.UTC(2023, 11, 31, 23, 30), call)).toBe(
      `tenants/${tenant}/2023/12/31/${call}.wav`,
    );
  });

  it.each([
    ["tenantId", "..", call],
    ["tenantId", `../${tenant}`, call],
    ["tenantId", `${tenant}/x`, call],
    ["tenantId", "acme", call],
    ["tenantId", tenant.toUpperCase(), call],
    ["callId", tenant, `../../${call}`],
    ["callId", tenant, `${call}/..`],
    ["callId", tenant, ""],
  ])("refuses a %s that is not a canonical UUID (%s, %s)", (field, tenantId, callId) => {
    const attempt = () => audioObjectKey(tenantId, 0, callId);
    expect(attempt).toThrow(AudioKeyError);
    expect(attempt).toThrow(field);
  });

  it.each([-1, 1.5, Number.NaN, Date.UTC(10000, 0, 1)])("refuses the start time %s", (startedAtMs) => {
    expect(() => audioObjectKey(tenant, startedAtMs, call)).toThrow(/startedAtMs/);
  });
});
