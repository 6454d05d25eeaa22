import type pg from "pg";
import type { EventCodec, HybridLogicalClock, UserChanged } from "@tandem/events";
import type { Producer } from "kafkajs";
import { USERS_TOPIC, buildHeaders } from "@tandem/events";
import { decodeUserState, resolutionFor, type ResolutionChoice } from "./core/users";

export interface ConflictRow {
  userId: string;
  tenantId: string;
  field: string;
  siblings: unknown[];
  winner: unknown;
  status: "open" | "resolved-by-policy";
  detectedAt: Date;
}

/** Conflicts as the site records them; by default only those waiting for an administrator. */
export async function listConflicts(
  pool: pg.Pool,
  options: { includeResolved?: boolean } = {},
): Promise<ConflictRow[]> {
  const { rows } = await pool.query<{
    user_id: string;
    tenant_id: string;
    field: string;
    siblings: unknown[];
    winner: unknown;
    status: "open" | "resolved-by-policy";
    detected_at: Date;
  }>(
    `SELECT c.user_id, u.tenant_id, c.field, c.siblings, c.winner, c.status, c.detected_at
     FROM conflicts c JOIN users u ON u.user_id = c.user_id
     WHERE $1 OR c.status = 'open' ORDER BY c.detected_at, c.user_id, c.field`,
    [options.includeResolved ?? false],
  );
  return rows.map((row) => ({
    userId: row.user_id,
    tenantId: row.tenant_id,
    field: row.field,
    siblings: row.siblings,
    winner: row.winner,
    status: row.status,
    detectedAt: row.detected_at,
  }));
}

/**
 * An administrator's decision: a UserChanged whose base version dominates every write of the user as
 * this site knows it, published to the site's users.changed. Every site that applies it clears the
 * conflict, this one included, when its materializer consumes the event.
 */
export async function resolveConflict(deps: {
  pool: pg.Pool;
  producer: Producer;
  codec: EventCodec;
  clock: HybridLogicalClock;
  site: string;
  userId: string;
  choice: ResolutionChoice;
}): Promise<UserChanged> {
  const { rows } = await deps.pool.query<{ state: unknown }>("SELECT state FROM users WHERE user_id = $1", [
    deps.userId,
  ]);
  const row = rows[0];
  if (row === undefined) throw new Error(`user ${deps.userId} is not known at site ${deps.site}`);
  const state = decodeUserState(row.state);
  for (const sibling of state.identity) {
    for (const seen of Object.values(sibling.version)) deps.clock.receive(seen);
  }
  const event = resolutionFor(state, deps.choice, {
    eventId: crypto.randomUUID(),
    hlc: deps.clock.now(),
    originSite: deps.site,
  });
  const value = await deps.codec.encode(USERS_TOPIC, event);
  const headers = buildHeaders({
    eventId: event.eventId,
    origin: deps.site,
    tenantId: event.tenantId,
    groupId: event.groupId,
  });
  await deps.producer.send({
    topic: USERS_TOPIC,
    acks: -1,
    messages: [{ key: event.userId, value, headers }],
  });
  return event;
}
