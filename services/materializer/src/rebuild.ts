/**
 * A site's database rebuilt from the log (`tandem replay --rebuild`, disaster recovery), outside the
 * long-running service: the consumer's admission rule and write path, and one pass of the audio copy,
 * so the database holds exactly the rows the materializer would write.
 */
import type pg from "pg";
import type { MergePolicy, PostgresConfig } from "@tandem/config";
import type { ObjectStore } from "@tandem/object-store";
import { copyAudio } from "./audio/copy";
import { inadmissibleReason } from "./core/admission";
import type { SourceRecord, SourcedEvent } from "./core/batch";
import { failureReason } from "./core/transfer";
import { applyEvents } from "./db/apply";
import { migrate } from "./db/migrate";
import { createPool } from "./db/pool";
import { markPresent, pendingTransfers } from "./db/transfers";
import { countCalls, countPendingAudio, countUsers } from "./queries";

export interface RebuildAudioOutcome {
  copied: number;
  bytes: number;
  failed: Array<{ callId: string; reason: string }>;
}

export class SiteRebuild {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly policy: MergePolicy,
  ) {}

  /** Connects and runs the materializer's migrations; returns the names of those it ran. */
  static async open(
    postgres: PostgresConfig,
    policy: MergePolicy,
  ): Promise<{ rebuild: SiteRebuild; migrations: string[] }> {
    const pool = createPool(postgres, 6);
    try {
      const migrations = await migrate(pool);
      return { rebuild: new SiteRebuild(pool, policy), migrations };
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  /**
   * Applies decoded events as one materializer batch. Returns the calls inserted and the events set
   * aside, as the consumer dead-letters them: inadmissible ones first, then those PostgreSQL refused.
   */
  async apply<R extends SourceRecord>(
    events: ReadonlyArray<SourcedEvent<R>>,
  ): Promise<{ callsInserted: number; refused: Array<{ record: R; reason: string }> }> {
    const refused: Array<{ record: R; reason: string }> = [];
    const admitted: Array<SourcedEvent<R>> = [];
    for (const item of events) {
      const reason = inadmissibleReason(item.event);
      if (reason === undefined) admitted.push(item);
      else refused.push({ record: item.record, reason });
    }
    const applied = await applyEvents(this.pool, this.policy, admitted);
    return { callsInserted: applied.callsInserted, refused: [...refused, ...applied.refused] };
  }

  async counts(): Promise<{ calls: number; users: number; audioPending: number }> {
    return {
      calls: await countCalls(this.pool, undefined),
      users: await countUsers(this.pool, undefined),
      audioPending: await countPendingAudio(this.pool),
    };
  }

  /**
   * Copies the audio of every pending call into the store of `targetSite` in `stores`, from the origin's
   * store or any other site's, verified by sha256, and marks it present. A call whose audio cannot be
   * copied stays pending: the site's materializer retries it once it runs.
   */
  async copyPendingAudio(
    targetSite: string,
    stores: ReadonlyMap<string, ObjectStore>,
    options: { concurrency: number; signal?: AbortSignal; onCopied?: () => void },
  ): Promise<RebuildAudioOutcome> {
    const outcome: RebuildAudioOutcome = { copied: 0, bytes: 0, failed: [] };
    const queue = await pendingTransfers(this.pool);
    const worker = async () => {
      for (let transfer = queue.shift(); transfer !== undefined; transfer = queue.shift()) {
        if (options.signal?.aborted) return;
        const result = await copyAudio(transfer, targetSite, stores);
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
