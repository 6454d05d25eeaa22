import { describe, expect, it } from "vitest";
import { shareOfCap } from "../../../services/bridge/src/core/cap-share";

describe("a process's share of its link's cap", () => {
  it("is the whole cap when the process runs every consumer of the link", () => {
    expect(shareOfCap(1_000_000, 1, 1)).toBe(1_000_000);
    expect(shareOfCap(1_000_000, 3, 3)).toBe(1_000_000);
  });

  it("is split by consumers, not by processes, when several processes share the link", () => {
    // Two processes of three consumers each: half each.
    expect(shareOfCap(1_200_000, 3, 6)).toBe(600_000);
    // One process of three consumers beside one of one: three quarters and a quarter.
    expect(shareOfCap(1_200_000, 3, 4)).toBe(900_000);
    expect(shareOfCap(1_200_000, 1, 4)).toBe(300_000);
  });

  it("never exceeds the cap while the group counts fewer members than this process runs", () => {
    // The group not asked yet (1), or asked mid-join before every consumer of this process is in it.
    expect(shareOfCap(1_000_000, 3, 1)).toBe(1_000_000);
    expect(shareOfCap(1_000_000, 3, 2)).toBe(1_000_000);
  });
});
