import { setTimeout as sleep } from "node:timers/promises";
import { Transform } from "node:stream";

/**
 * A token bucket whose rate may change at any moment (a cap by time window, shared by a number of
 * instances that changes), which is why no library bucket with a fixed rate is used. Pure: the caller
 * gives the time. It starts empty, so that a transfer is held to the rate from its first byte, and keeps at
 * most a second's worth while idle.
 */
export class TokenBucket {
  private tokens = 0;

  constructor(
    private bytesPerSecond: number,
    private at: number,
  ) {}

  /** Takes `bytes`, in debt if need be: how many milliseconds the caller waits before going on. */
  take(bytes: number, now: number): number {
    this.refill(now);
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.bytesPerSecond) * 1000);
  }

  setRate(bytesPerSecond: number, now: number): void {
    this.refill(now);
    this.bytesPerSecond = bytesPerSecond;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.at) / 1000;
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + elapsed * this.bytesPerSecond);
    this.at = now;
  }
}

const WAIT_SLICE_MS = 1000;

/** Holds whoever passes bytes to a rate read at each pass (undefined: no cap). */
export class Throttle {
  private bucket: TokenBucket | undefined;

  constructor(private readonly rate: () => number | undefined) {}

  /**
   * Counts `bytes` against the rate and waits as long as they take at it; `waiting` runs every second of a
   * long wait (a consumer heartbeats its group meanwhile).
   */
  async pass(
    bytes: number,
    options: { signal?: AbortSignal; waiting?: () => Promise<void> } = {},
  ): Promise<void> {
    const rate = this.rate();
    const now = Date.now();
    if (rate === undefined) {
      this.bucket = undefined;
      return;
    }
    if (this.bucket === undefined) this.bucket = new TokenBucket(rate, now);
    else this.bucket.setRate(rate, now);
    let waitMs = this.bucket.take(bytes, now);
    while (waitMs > 0) {
      const slice = Math.min(waitMs, WAIT_SLICE_MS);
      await sleep(slice, undefined, { signal: options.signal });
      waitMs -= slice;
      if (waitMs > 0) await options.waiting?.();
    }
  }

  /** A stream that lets bytes through at the rate. */
  stream(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.pass(chunk.length).then(
          () => done(null, chunk),
          (error: unknown) => done(error as Error),
        );
      },
    });
  }
}
