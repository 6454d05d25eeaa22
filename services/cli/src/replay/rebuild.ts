/**
 * `tandem replay --rebuild`: disaster recovery. A fresh database is migrated and filled with the events
 * through the materializer's own batch path, so it holds exactly the rows the materializer would write;
 * audio can be copied into a directory store at once.
 */
import type pg from "pg";
import type { MergePolicy, PostgresConfig } from "@tandem/config";
import { AudioKeyError, audioObjectKey, type TandemEvent } from "@tandem/events";
import type { ObjectStore } from "@tandem/object-store";
// The materializer exports only its long-running service; these are the internals of one batch and one
// audio copy, reused rather than duplicated.
import {
  applyEvents,
  copyAudio,
  createPool,
  failureReason,
  markPresent,
  migrate,
  pendingTransfers,
  type SourcedEvent,
} from "@tandem/materializer";
import type { RecordView } from "./records";

/** The id the target store goes by among the sites' stores; not a valid site id, so never a real site. */
export const TARGET_STORE = "--store-dir";

export interface AudioOutcome {
  copied: number;
  bytes: number;
  failed: Array<{ callId: string; reason: string }>;
}

export class RebuildTarget {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly policy: MergePolicy,
  ) {}

  /** Connects and runs the materializer's migrations; returns the names of those it ran. */
  static async open(
    postgres: PostgresConfig,
    policy: MergePolicy,
  ): Promise<{ target: RebuildTarget; migrations: string[] }> {
    const pool = createPool(postgres, 6);
    try {
      const migrations = await migrate(pool);
      return { target: new RebuildTarget(pool, policy), migrations };
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  /**
   * Applies decoded events as a materializer batch. Returns the calls inserted and the events set aside,
   * as the materializer dead-letters them: no audio key can be derived, or PostgreSQL refuses them.
   */
  async apply(views: readonly RecordView[]): Promise<{ callsInserted: number; rejected: RecordView[] }> {
    const rejected: RecordView[] = [];
    const events: Array<SourcedEvent<RecordView>> = [];
    for (const view of views) {
      if (view.kind === undefined || view.event === undefined) continue;
      const event = { kind: view.kind, event: view.event } as TandemEvent;
      if (event.kind === "CallCompleted") {
        try {
          audioObjectKey(event.event.tenantId, event.event.startedAtMs, event.event.callId);
        } catch (error) {
          if (!(error instanceof AudioKeyError)) throw error;
          rejected.push({ ...view, error: error.message });
          continue;
        }
      }
      events.push({ record: view, event });
    }
    const applied = await applyEvents(this.pool, this.policy, events);
    for (const { record, reason } of applied.refused) rejected.push({ ...record, error: reason });
    return { callsInserted: applied.callsInserted, rejected };
  }

  async counts(): Promise<{ calls: number; users: number; audioPending: number }> {
    const { rows } = await this.pool.query<{ calls: number; users: number; pending: number }>(
      `SELECT (SELECT count(*) FROM calls)::int AS calls, (SELECT count(*) FROM users)::int AS users,
              (SELECT count(*) FROM calls WHERE audio_state = 'pending')::int AS pending`,
    );
    const row = rows[0]!;
    return { calls: row.calls, users: row.users, audioPending: row.pending };
  }

  /**
   * Copies the audio of every pending call into the target store (under `TARGET_STORE` in `stores`),
   * from the origin's store or any other site's, verified by sha256, and marks it present. A call whose
   * audio cannot be copied stays pending: the site's materializer retries it once it runs.
   */
  async copyAudio(
    stores: ReadonlyMap<string, ObjectStore>,
    options: { concurrency: number; signal?: AbortSignal; onCopied?: () => void },
  ): Promise<AudioOutcome> {
    const outcome: AudioOutcome = { copied: 0, bytes: 0, failed: [] };
    const queue = await pendingTransfers(this.pool);
    const worker = async () => {
      for (let transfer = queue.shift(); transfer !== undefined; transfer = queue.shift()) {
        if (options.signal?.aborted) return;
        const result = await copyAudio(transfer, TARGET_STORE, stores);
        if (result.ok) {
          await markPresent(this.pool, transfer.callId, result.bytesCopied, result.outcomes);
          outcome.copied++;
          outcome.bytes += result.bytesCopied;
        } else outcome.failed.push({ callId: transfer.callId, reason: failureReason(result.outcomes) });
        options.onCopied?.();
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    return outcome;
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
