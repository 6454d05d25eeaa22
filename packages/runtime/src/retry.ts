import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from "./backoff";

export interface RetryOptions {
  policy?: BackoffPolicy;
  signal?: AbortSignal;
  /** Called before each wait, with the attempt that failed and its error. */
  onRetry?: (attempt: number, error: unknown, waitMs: number) => void;
  /** Stop retrying after this many attempts (default: never, until aborted). */
  maxAttempts?: number;
  /** An error for which this returns false is thrown at once instead of retried (default: retry all). */
  retryIf?: (error: unknown) => boolean;
  random?: () => number;
}

/**
 * Runs `action` until it succeeds, waiting with capped exponential backoff between attempts. A peer that
 * is down is waited for, not given up on, unless a budget is set or the signal aborts.
 */
export async function retryWithBackoff<T>(action: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (
        options.signal?.aborted ||
        (options.maxAttempts !== undefined && attempt >= options.maxAttempts) ||
        options.retryIf?.(error) === false
      )
        throw error;
      const waitMs = backoffDelay(attempt - 1, random, options.policy ?? DEFAULT_BACKOFF);
      options.onRetry?.(attempt, error, waitMs);
      await sleep(waitMs, undefined, { signal: options.signal }).catch(() => {});
      if (options.signal?.aborted) throw error;
    }
  }
}
