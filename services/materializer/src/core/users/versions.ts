/**
 * The clock and version-vector operations the user merge relies on, in one place.
 * A site missing from a vector ranks below every timestamp of that site.
 */
import { compare, compareHlc, maxHlc, merge, versionOf } from "@tandem/events";
import type { UserChanged, VersionVector } from "@tandem/events";

export { compareHlc, maxHlc };
export type { VersionOrder } from "@tandem/events";

/** How a relates to b: pointwise over the union of their sites. */
export const compareVersions = compare;

/** Pointwise maximum of any number of vectors. */
export function mergeVersions(vectors: readonly VersionVector[]): VersionVector {
  return vectors.reduce<VersionVector>((merged, vector) => merge(merged, vector), {});
}

/** The version an event establishes: its base, with its origin's entry raised to the event's own clock. */
export function eventVersion(event: UserChanged): VersionVector {
  return versionOf(event);
}
