import { setTimeout as sleep } from "node:timers/promises";

/** Time as the runner sees it; tests inject a fake one. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }).catch(() => {}),
};

/**
 * Evenly spaced slots at a rate: slot k is due at `startMs + k / rate`. When the work falls behind by
 * more than `maxBacklog` slots, the oldest are dropped (and counted) rather than fired in a burst later:
 * the rate is a ceiling, and the shortfall is reported instead of hidden.
 */
export class RateScheduler {
  private readonly intervalMs: number;
  private taken = 0;
  skipped = 0;

  constructor(
    ratePerSecond: number,
    private readonly startMs: number,
    private readonly maxBacklog = Math.max(1, Math.ceil(ratePerSecond)),
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError(`rate must be positive, got ${ratePerSecond}`);
    this.intervalMs = 1000 / ratePerSecond;
  }

  /** Slots due at `nowMs` and not taken yet. */
  due(nowMs: number): number {
    const elapsed = nowMs - this.startMs;
    if (elapsed < 0) return 0;
    const backlog = Math.floor(elapsed / this.intervalMs) + 1 - this.taken;
    if (backlog > this.maxBacklog) {
      this.skipped += backlog - this.maxBacklog;
      this.taken += backlog - this.maxBacklog;
      return this.maxBacklog;
    }
    return Math.max(0, backlog);
  }

  /** Takes one slot if one is due. */
  take(nowMs: number): boolean {
    if (this.due(nowMs) === 0) return false;
    this.taken++;
    return true;
  }

  /** When the next slot not taken yet is due. */
  nextDueMs(): number {
    return this.startMs + Math.ceil(this.taken * this.intervalMs);
  }
}

export interface PacedOptions {
  scheduler: RateScheduler;
  clock: Clock;
  /** Stops starting tasks; tasks already started run to their end. */
  signal: AbortSignal;
  /** Tasks in flight at once. */
  concurrency: number;
  /** Tasks to start in all, unbounded when absent. */
  limit?: number;
  task: (index: number) => Promise<void>;
}

/**
 * Starts `task` once per due slot, at most `concurrency` at a time, until the limit or the signal; then
 * waits for the tasks in flight. Returns the number of tasks started. A task that fails stops further
 * starts, and its error is thrown once the others have ended.
 */
export async function runPaced(options: PacedOptions): Promise<number> {
  const { scheduler, clock, signal, concurrency, limit, task } = options;
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let started = 0;
  while (!signal.aborted && failure === undefined && (limit === undefined || started < limit)) {
    if (inFlight.size >= concurrency) {
      await Promise.race(inFlight);
      continue;
    }
    const now = clock.now();
    if (!scheduler.take(now)) {
      await clock.sleep(Math.max(1, scheduler.nextDueMs() - now), signal);
      continue;
    }
    const running: Promise<void> = task(started++)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inFlight.delete(running));
    inFlight.add(running);
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure.error;
  return started;
}
