import type { Hlc, UserChanged, UserFieldName, UserFields, VersionVector } from "@tandem/events";

export const USER_ID = "6f1c2a4e-0000-4000-8000-000000000001";
export const TENANT_ID = "6f1c2a4e-0000-4000-8000-0000000000aa";
export const GROUP_ID = "6f1c2a4e-0000-4000-8000-0000000000bb";

/** Version vector from wall times, logical counters at zero: `vv({ nyc: 100 })`. */
export function vv(entries: Record<string, number>): VersionVector {
  const vector: VersionVector = {};
  for (const [site, wallTimeMs] of Object.entries(entries)) vector[site] = hlc(wallTimeMs);
  return vector;
}

export function hlc(wallTimeMs: number, logical = 0): Hlc {
  return { wallTimeMs, logical };
}

interface EditSpec {
  id: string;
  site: string;
  at: number | Hlc;
  base?: Record<string, number> | VersionVector;
}

export function upsert(spec: EditSpec & { set: Partial<UserFields> }): UserChanged {
  const changedFields = Object.keys(spec.set) as UserFieldName[];
  return {
    ...common(spec),
    operation: "UPSERT",
    changedFields,
    fields: { name: null, email: null, extensions: null, role: null, active: null, ...spec.set },
  };
}

export function remove(spec: EditSpec): UserChanged {
  return {
    ...common(spec),
    operation: "DELETE",
    changedFields: [],
    fields: { name: null, email: null, extensions: null, role: null, active: null },
  };
}

function common(spec: EditSpec) {
  return {
    eventId: spec.id,
    userId: USER_ID,
    tenantId: TENANT_ID,
    groupId: GROUP_ID,
    hlc: typeof spec.at === "number" ? hlc(spec.at) : spec.at,
    baseVersion: toVector(spec.base ?? {}),
    originSite: spec.site,
  };
}

function toVector(base: Record<string, number> | VersionVector): VersionVector {
  const vector: VersionVector = {};
  for (const [site, entry] of Object.entries(base))
    vector[site] = typeof entry === "number" ? hlc(entry) : entry;
  return vector;
}

/** The user as created at nyc: every field set, version { nyc: 100 }. */
export const created = upsert({
  id: "evt-created",
  site: "nyc",
  at: 100,
  set: { name: "Ada", email: "ada@example.com", extensions: ["1001"], role: "agent", active: true },
});

/** Every ordering of a few events, to show a result does not depend on arrival order. */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}
