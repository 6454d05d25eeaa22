import type pg from "pg";
import type { UserChanged } from "@tandem/events";
import type { MergePolicy } from "@tandem/config";
import {
  applyUserChanged,
  conflictsOf,
  decodeUserState,
  emptyUserState,
  serializeUserState,
  visibleUser,
  type UserState,
} from "../core/users";

/** Locks the user's row (created empty in this transaction when new) and returns its merge state. */
export async function lockUserState(client: pg.PoolClient, event: UserChanged): Promise<UserState> {
  await client.query(
    `INSERT INTO users (user_id, tenant_id, group_id, deleted, version, state)
     VALUES ($1, $2, $3, false, '{}', $4) ON CONFLICT (user_id) DO NOTHING`,
    [event.userId, event.tenantId, event.groupId, serializeUserState(emptyUserState(event.userId))],
  );
  const { rows } = await client.query<{ state: unknown }>(
    "SELECT state FROM users WHERE user_id = $1 FOR UPDATE",
    [event.userId],
  );
  const row = rows[0];
  if (row === undefined) throw new Error(`user ${event.userId} vanished while locked`);
  return decodeUserState(row.state);
}

/**
 * Applies a user's events under the site's policy: the merge state, the visible columns derived from it
 * and the user's conflicts are written together. Returns whether anything changed.
 */
export async function applyUserEvents(
  client: pg.PoolClient,
  events: readonly UserChanged[],
  policy: MergePolicy,
): Promise<boolean> {
  const [first] = events;
  if (first === undefined) return false;
  const before = await lockUserState(client, first);
  const after = events.reduce(applyUserChanged, before);
  const text = serializeUserState(after);
  if (text === serializeUserState(before)) return false;
  const visible = visibleUser(after, policy);
  if (visible === undefined)
    throw new Error(`user ${first.userId} has no visible state after ${events.length} events`);
  const { fields } = visible;
  await client.query(
    `UPDATE users SET tenant_id = $2, group_id = $3, deleted = $4, name = $5, email = $6, extensions = $7,
       role = $8, active = $9, version = $10, state = $11, updated_at = now()
     WHERE user_id = $1`,
    [
      visible.userId,
      visible.tenantId,
      visible.groupId,
      visible.deleted,
      fields.name,
      fields.email,
      fields.extensions,
      fields.role,
      fields.active,
      JSON.stringify(visible.version),
      text,
    ],
  );
  await writeConflicts(client, after, policy);
  return true;
}

async function writeConflicts(client: pg.PoolClient, state: UserState, policy: MergePolicy): Promise<void> {
  const conflicts = conflictsOf(state, policy);
  await client.query("DELETE FROM conflicts WHERE user_id = $1", [state.userId]);
  for (const conflict of conflicts) {
    await client.query(
      `INSERT INTO conflicts (user_id, field, siblings, winner, status) VALUES ($1, $2, $3, $4, $5)`,
      [
        conflict.userId,
        conflict.field,
        JSON.stringify(conflict.siblings),
        JSON.stringify(conflict.winner),
        conflict.status,
      ],
    );
  }
}
