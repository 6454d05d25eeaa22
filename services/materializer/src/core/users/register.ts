/**
 * Multi-value register: the writes that no other applied write dominates.
 * Keeping exactly the maximal writes (by version) makes application commutative and idempotent.
 */
import type { Hlc, VersionVector } from "@tandem/events";
import { compareVersions } from "./versions";

export interface Sibling<T> {
  readonly value: T;
  readonly version: VersionVector;
  readonly hlc: Hlc;
  readonly originSite: string;
  readonly eventId: string;
}

export type Register<T> = readonly Sibling<T>[];

/**
 * Two distinct events with equal versions (only a misbehaving clock produces them) are both kept,
 * as rejecting the later one would make the result depend on arrival order.
 */
export function applyWrite<T>(register: Register<T>, write: Sibling<T>): Register<T> {
  let superseded = false;
  for (const sibling of register) {
    if (sibling.eventId === write.eventId) return register;
    if (compareVersions(sibling.version, write.version) === "after") superseded = true;
  }
  if (superseded) return register;
  const kept = register.filter((sibling) => compareVersions(sibling.version, write.version) !== "before");
  return [...kept, write].sort(bySiblingId);
}

/** Sibling event ids are unique within a register, so this is a total order. */
export function bySiblingId<T>(a: Sibling<T>, b: Sibling<T>): number {
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}
