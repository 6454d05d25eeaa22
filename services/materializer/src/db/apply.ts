/** Writes decoded events to the site's database: the one write path of the consumer and of a rebuild. */
import type pg from "pg";
import type { MergePolicy } from "@tandem/config";
import { isPermanent } from "@tandem/runtime";
import { planBatch, type SourceRecord, type SourcedEvent } from "../core/batch";
import { insertCalls } from "./calls";
import { inTransaction } from "./pool";
import { applyUserEvents } from "./users";

export interface AppliedEvents<R extends SourceRecord> {
  callsInserted: number;
  usersChanged: number;
  /** Events PostgreSQL refused for what they hold (not written, never retried), with the reason. */
  refused: Array<{ record: R; reason: string }>;
}

/**
 * All events in one transaction. Safe to repeat: calls are inserted once, user events are idempotent. If
 * PostgreSQL refuses one of them for its content, the events are written one at a time instead, so the
 * others still land and only the refused ones are handed back.
 */
export async function applyEvents<R extends SourceRecord>(
  pool: pg.Pool,
  policy: MergePolicy,
  events: ReadonlyArray<SourcedEvent<R>>,
): Promise<AppliedEvents<R>> {
  try {
    return { ...(await writeTogether(pool, policy, events)), refused: [] };
  } catch (error) {
    if (!isPermanent(error)) throw error;
  }
  const applied: AppliedEvents<R> = { callsInserted: 0, usersChanged: 0, refused: [] };
  for (const item of events) {
    try {
      const written = await writeTogether(pool, policy, [item]);
      applied.callsInserted += written.callsInserted;
      applied.usersChanged += written.usersChanged;
    } catch (error) {
      if (!isPermanent(error)) throw error;
      const code = (error as { code?: unknown }).code;
      const reason = `PostgreSQL refused the event: ${error.message} (SQLSTATE ${String(code)})`;
      applied.refused.push({ record: item.record, reason });
    }
  }
  return applied;
}

async function writeTogether(
  pool: pg.Pool,
  policy: MergePolicy,
  events: readonly SourcedEvent[],
): Promise<{ callsInserted: number; usersChanged: number }> {
  const plan = planBatch(events);
  return inTransaction(pool, async (client) => {
    const callsInserted = plan.calls.length > 0 ? await insertCalls(client, plan.calls) : 0;
    let usersChanged = 0;
    for (const user of plan.users) {
      if (await applyUserEvents(client, user.events, policy)) usersChanged++;
    }
    return { callsInserted, usersChanged };
  });
}
