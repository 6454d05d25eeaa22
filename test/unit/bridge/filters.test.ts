import { describe, expect, it } from "vitest";
import type { AllowDeny } from "@tandem/config";
import { admits, applyFilters, isRestrictive } from "../../../services/bridge/src/core/filters";

const A = "3f2c9a1e-8b7d-4c6a-9e5f-1a2b3c4d5e6f";
const B = "7b0c6a4e-2f1d-4c3b-9a8e-5d6f7e8a9b0c";
const C = "0d3b8f4e-1a2b-4c3d-8e9f-a0b1c2d3e4f5";
const open: AllowDeny = { deny: [] };

describe("filters", () => {
  it("an empty filter admits everything, even a missing id", () => {
    expect(isRestrictive(open)).toBe(false);
    expect(admits(open, A)).toBe(true);
    expect(admits(open, undefined)).toBe(true);
  });

  it("a deny list rejects its members and admits others", () => {
    const list: AllowDeny = { deny: [B] };
    expect(admits(list, B)).toBe(false);
    expect(admits(list, A)).toBe(true);
  });

  it("an allow list admits only its members", () => {
    const list: AllowDeny = { allow: [A], deny: [] };
    expect(admits(list, A)).toBe(true);
    expect(admits(list, C)).toBe(false);
  });

  it("deny wins over allow", () => {
    expect(admits({ allow: [A, B], deny: [B] }, B)).toBe(false);
    expect(admits({ allow: [A, B], deny: [B] }, A)).toBe(true);
  });

  it("compares UUIDs case-insensitively", () => {
    expect(admits({ deny: [B] }, B.toUpperCase())).toBe(false);
    expect(admits({ allow: [A], deny: [] }, A.toUpperCase())).toBe(true);
  });

  it("a restrictive filter rejects an event without the id: a filter is a guarantee", () => {
    expect(admits({ deny: [B] }, undefined)).toBe(false);
    expect(admits({ allow: [A], deny: [] }, undefined)).toBe(false);
    expect(admits({ deny: [B] }, "")).toBe(false);
  });

  it("applies the tenant filter, then the group filter", () => {
    const filters = { tenants: { deny: [A] }, groups: { allow: [B], deny: [] } };
    expect(applyFilters(filters, A, C)).toBe("filtered-tenant");
    expect(applyFilters(filters, C, C)).toBe("filtered-group");
    expect(applyFilters(filters, C, undefined)).toBe("filtered-group");
    expect(applyFilters(filters, C, B)).toBe("pass");
    expect(applyFilters({ tenants: open, groups: open }, undefined, undefined)).toBe("pass");
  });
});
