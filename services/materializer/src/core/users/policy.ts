/**
 * Site merge policies: which of several concurrent siblings is visible.
 * Every pick is a pure function of the sibling set, so all sites show the same value.
 */
import type { Register, Sibling } from "./register";
import { compareHlc } from "./versions";

export type MergePolicy =
  { kind: "lww" } | { kind: "priority"; siteOrder: readonly string[] } | { kind: "manual" };

/** Highest clock wins; equal clocks fall back to origin site, then event id (code-unit string order). */
export function compareLww<T>(a: Sibling<T>, b: Sibling<T>): number {
  return (
    compareHlc(a.hlc, b.hlc) ||
    compareStrings(a.originSite, b.originSite) ||
    compareStrings(a.eventId, b.eventId)
  );
}

/** The visible sibling; `manual` shows the lww pick until an administrator decides. */
export function pickWinner<T>(register: Register<T>, policy: MergePolicy): Sibling<T> | undefined {
  const ranks = policy.kind === "priority" ? siteRanks(policy.siteOrder) : undefined;
  const unlisted = policy.kind === "priority" ? policy.siteOrder.length : 0;
  let winner: Sibling<T> | undefined;
  for (const sibling of register) {
    if (winner === undefined || beats(sibling, winner, ranks, unlisted)) winner = sibling;
  }
  return winner;
}

function beats<T>(
  a: Sibling<T>,
  b: Sibling<T>,
  ranks: ReadonlyMap<string, number> | undefined,
  unlisted: number,
): boolean {
  if (ranks !== undefined) {
    // Sites missing from the order rank after every listed site.
    const rankA = ranks.get(a.originSite) ?? unlisted;
    const rankB = ranks.get(b.originSite) ?? unlisted;
    if (rankA !== rankB) return rankA < rankB;
  }
  return compareLww(a, b) > 0;
}

function siteRanks(siteOrder: readonly string[]): ReadonlyMap<string, number> {
  const ranks = new Map<string, number>();
  siteOrder.forEach((site, index) => {
    if (!ranks.has(site)) ranks.set(site, index);
  });
  return ranks;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
