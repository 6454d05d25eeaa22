import { compareHlc, maxHlc } from "./hlc";
import type { Hlc, UserChanged, VersionVector } from "./types";

export type VersionOrder = "equal" | "before" | "after" | "concurrent";

/**
 * Orders two version vectors. Entries are per-site HLCs; a missing entry is older than any present one.
 * A site's own edits are ordered by its HLC, so two versions are concurrent only when each holds an edit
 * from some site that the other has not seen.
 */
export function compare(a: VersionVector, b: VersionVector): VersionOrder {
  let aAhead = false;
  let bAhead = false;
  for (const site of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const order = compareEntries(entry(a, site), entry(b, site));
    if (order > 0) aAhead = true;
    if (order < 0) bAhead = true;
  }
  if (aAhead && bAhead) return "concurrent";
  if (aAhead) return "after";
  if (bAhead) return "before";
  return "equal";
}

/** True when `a` has seen everything `b` has seen (`a` is after or equal to `b`). */
export function dominates(a: VersionVector, b: VersionVector): boolean {
  const order = compare(a, b);
  return order === "after" || order === "equal";
}

/** Pointwise maximum: the version that has seen everything either side has seen. */
export function merge(a: VersionVector, b: VersionVector): VersionVector {
  const merged: VersionVector = { ...a };
  for (const [site, hlc] of Object.entries(b)) {
    const mine = entry(merged, site);
    merged[site] = mine === undefined ? hlc : maxHlc(mine, hlc);
  }
  return merged;
}

/** The version an edit produces: its base version plus the edit itself at its origin site. */
export function versionOf(event: UserChanged): VersionVector {
  const base = entry(event.baseVersion, event.originSite);
  return {
    ...event.baseVersion,
    [event.originSite]: base === undefined ? event.hlc : maxHlc(base, event.hlc),
  };
}

// Own-property lookup: site ids come from the network and must not reach Object.prototype.
function entry(vector: VersionVector, site: string): Hlc | undefined {
  return Object.hasOwn(vector, site) ? vector[site] : undefined;
}

function compareEntries(a: Hlc | undefined, b: Hlc | undefined): number {
  if (a === undefined) return b === undefined ? 0 : -1;
  if (b === undefined) return 1;
  return compareHlc(a, b);
}
