import { REGISTER_NAMES, type ConflictRow } from "@tandem/materializer";

export interface ConflictSide {
  value: unknown;
  site: string;
  /** The writer's hybrid logical clock, as wall time and counter. */
  at: string;
  logical: number;
  eventId: string;
}

export interface ConflictView {
  site: string;
  userId: string;
  tenantId: string;
  field: string;
  detectedAt: string;
  shown: unknown;
  sides: ConflictSide[];
}

interface StoredSibling {
  value: unknown;
  originSite: string;
  hlc: { wallTimeMs: number; logical?: number };
  eventId: string;
}

export function conflictView(site: string, row: ConflictRow): ConflictView {
  const side = (sibling: unknown): ConflictSide => {
    const s = sibling as StoredSibling;
    return {
      value: s.value,
      site: s.originSite,
      at: new Date(s.hlc.wallTimeMs).toISOString(),
      logical: s.hlc.logical ?? 0,
      eventId: s.eventId,
    };
  };
  return {
    site,
    userId: row.userId,
    tenantId: row.tenantId,
    field: row.field,
    detectedAt: row.detectedAt.toISOString(),
    shown: (row.winner as StoredSibling | null)?.value,
    sides: row.siblings.map(side),
  };
}

export interface ResolutionRequest {
  site: string;
  userId: string;
  field: string;
  value: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A resolution as the page posts it, checked; a string naming the problem when it is not one. */
export function parseResolution(body: unknown, sites: readonly string[]): ResolutionRequest | string {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.site !== "string" || !sites.includes(b.site)) return "unknown site";
  if (typeof b.userId !== "string" || !UUID.test(b.userId)) return "userId: not a UUID";
  if (typeof b.field !== "string" || !(REGISTER_NAMES as readonly string[]).includes(b.field))
    return `field: one of ${REGISTER_NAMES.join(", ")}`;
  if (!("value" in b)) return "value: missing";
  return { site: b.site, userId: b.userId, field: b.field, value: b.value };
}
