import { setTimeout as sleep } from "node:timers/promises";

export interface RetryOptions {
  initialMs: number;
  maxMs: number;
  signal?: AbortSignal;
  /** Called before each wait, with the attempt that failed and its error. */
  onRetry?: (attempt: number, error: unknown, waitMs: number) => void;
  /** Stop retrying after this many attempts (default: never, until aborted). */
  maxAttempts?: number;
  random?: () => number;
}

/**
 * Runs `action` until it succeeds, waiting with capped exponential backoff and full jitter between
 * attempts. A peer that is down is waited for, not given up on, unless a budget is set.
 */
export async function retryWithBackoff<T>(action: () => Promise<T>, options: RetryOptions): Promise<T> {
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (options.signal?.aborted || (options.maxAttempts !== undefined && attempt >= options.maxAttempts))
        throw error;
      const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** (attempt - 1));
      const waitMs = Math.round(ceiling / 2 + (random() * ceiling) / 2);
      options.onRetry?.(attempt, error, waitMs);
      await sleep(waitMs, undefined, { signal: options.signal }).catch(() => {});
      if (options.signal?.aborted) throw error;
    }
  }
}
