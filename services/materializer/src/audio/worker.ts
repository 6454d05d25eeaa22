import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import type { Producer } from "kafkajs";
import { DLQ_TOPIC } from "@tandem/events";
import type { ObjectStore } from "@tandem/object-store";
import type { Logger } from "@tandem/runtime";
import { retryWithBackoff, type Throttle } from "@tandem/runtime";
import { afterFailure, failureReason, metOnlyOutage, type TransferOptions } from "../core/transfer";
import { dlqMessageForAudio } from "../consumer/dlq";
import { claimTransfers, markPresent, recordDlq, recordFailure, type ClaimedTransfer } from "../db/transfers";
import type { MaterializerMetrics } from "../metrics";
import { copyAudio } from "./copy";

export interface TransferWorkerOptions extends TransferOptions {
  concurrency: number;
  /** How long a claimed transfer is reserved for its worker (a dead worker's claim expires). */
  leaseMs: number;
  /** Idle polling interval; new calls wake the workers at once. */
  pollMs: number;
  /** Origins whose audio is not copied now (their link's calls schedule is closed); none by default. */
  heldOrigins?: () => readonly string[];
  /** The pace of copies from an origin, when the link that brings its calls here is capped. */
  throttleFor?: (originSite: string) => Throttle | undefined;
}

export interface TransferWorkers {
  /** New pending calls were committed. */
  wake(): void;
  stop(): Promise<void>;
}

const PERSIST_BACKOFF = { initialMs: 500, maxMs: 10_000, multiplier: 2, jitter: 0.5 };

/** Workers that copy pending audio into the site's store; each handles one call at a time. */
export function startTransferWorkers(deps: {
  site: string;
  pool: pg.Pool;
  stores: ReadonlyMap<string, ObjectStore>;
  producer: Producer;
  metrics: MaterializerMetrics;
  logger: Logger;
  options: TransferWorkerOptions;
}): TransferWorkers {
  const { pool, options, logger, metrics } = deps;
  const stopping = new AbortController();
  let wakeUp = new AbortController();

  // The outcome of a copy is kept until the database takes it: a restart of PostgreSQL in the middle
  // must not leave the transfer to its lease (minutes) when the copy itself is done.
  const persist = <T>(what: string, action: () => Promise<T>) =>
    retryWithBackoff(action, {
      policy: PERSIST_BACKOFF,
      signal: stopping.signal,
      onRetry: (attempt, error) =>
        logger.warn({ err: error, attempt }, `${what}: database unreachable, retrying`),
    });

  const finish = async (transfer: ClaimedTransfer) => {
    const result = await copyAudio(
      transfer,
      deps.site,
      deps.stores,
      options.throttleFor?.(transfer.originSite),
    );
    if (result.ok) {
      await persist("audio present", () =>
        markPresent(pool, transfer.callId, result.bytesCopied, result.outcomes),
      );
      metrics.audioBytes.inc(result.bytesCopied);
      metrics.audioTransfers.inc({ result: "present" });
      logger.debug({ callId: transfer.callId, outcomes: result.outcomes }, "audio present");
      return;
    }
    const reason = failureReason(result.outcomes);
    const outage = metOnlyOutage(result.outcomes, deps.site, transfer.originSite);
    const decision = afterFailure(
      { attempts: transfer.attempts, earlierOutages: transfer.outages, outage },
      new Date(),
      options,
    );
    if (decision.kind === "fail") {
      // Dead-lettered before it is marked failed: a crash in between repeats the DLQ record, never loses it.
      await persist("audio dead letter", () =>
        deps.producer.send({
          topic: DLQ_TOPIC,
          acks: -1,
          messages: [dlqMessageForAudio(transfer, reason, deps.site)],
        }),
      );
      await persist("audio dead letter", () =>
        recordDlq(pool, { id: crypto.randomUUID(), reason, callId: transfer.callId }),
      );
      metrics.dlqRecords.inc({ kind: "audio" });
      logger.error({ callId: transfer.callId, attempts: transfer.attempts, reason }, "audio failed");
    } else {
      logger.warn(
        { callId: transfer.callId, attempts: transfer.attempts, reason },
        outage ? "audio transfer waits for an unreachable store" : "audio transfer retried later",
      );
    }
    await persist("audio retry", () =>
      recordFailure(pool, transfer.callId, decision, reason, result.outcomes),
    );
    metrics.audioTransfers.inc({ result: decision.kind === "fail" ? "failed" : "retry" });
  };

  let held: readonly string[] = [];
  const heldNow = () => {
    const now = options.heldOrigins?.() ?? [];
    if (now.join() !== held.join()) {
      logger.info(
        { heldOrigins: now },
        "audio copies follow the calls schedule: held back from these origins",
      );
    }
    held = now;
    return now;
  };

  const loop = async (worker: number) => {
    while (!stopping.signal.aborted) {
      let transfer: ClaimedTransfer | undefined;
      try {
        [transfer] = await claimTransfers(pool, 1, options.leaseMs, heldNow());
        if (transfer !== undefined) await finish(transfer);
      } catch (error) {
        // Claiming failed, or the worker is stopping mid-transfer: the lease brings the transfer back.
        logger.warn({ err: error, worker, callId: transfer?.callId }, "audio transfer interrupted");
        transfer = undefined;
      }
      if (transfer === undefined) {
        const signal = AbortSignal.any([stopping.signal, wakeUp.signal]);
        await sleep(options.pollMs, undefined, { signal }).catch(() => {});
      }
    }
  };

  const running = Array.from({ length: options.concurrency }, (_, worker) => loop(worker));
  return {
    wake() {
      wakeUp.abort();
      wakeUp = new AbortController();
    },
    async stop() {
      stopping.abort();
      await Promise.all(running);
    },
  };
}
