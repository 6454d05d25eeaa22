export interface BackoffPolicy {
  /** Delay before the first retry. */
  initialMs: number;
  /** Ceiling for any delay, jitter included. */
  maxMs: number;
  /** Growth per attempt. */
  multiplier: number;
  /** Fraction (0..1) of each delay that is random, so that many bridges retrying do not move in step. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 60_000, multiplier: 2, jitter: 0.5 };

/**
 * Delay in ms before retry number `attempt` (0 for the first): `initialMs * multiplier^attempt`, capped
 * at `maxMs`, of which the `jitter` fraction is taken off at random. `random` returns a number in [0, 1).
 */
export function backoffDelay(
  attempt: number,
  random: () => number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number {
  if (!Number.isInteger(attempt) || attempt < 0)
    throw new RangeError(`attempt must be an integer >= 0, got ${attempt}`);
  if (policy.jitter < 0 || policy.jitter > 1)
    throw new RangeError(`jitter must be in [0, 1], got ${policy.jitter}`);
  const r = random();
  if (!(r >= 0 && r < 1)) throw new RangeError(`random() must return a number in [0, 1), got ${r}`);
  const capped = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** attempt);
  return Math.round(capped * (1 - policy.jitter * r));
}
