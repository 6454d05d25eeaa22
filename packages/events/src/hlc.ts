import type { Hlc } from "./types";

/** Largest logical counter: the Avro field is an `int`. */
const MAX_LOGICAL = 2 ** 31 - 1;

/** Orders HLC timestamps: negative if a < b, 0 if equal, positive if a > b. */
export function compareHlc(a: Hlc, b: Hlc): number {
  return a.wallTimeMs !== b.wallTimeMs ? a.wallTimeMs - b.wallTimeMs : a.logical - b.logical;
}

export function maxHlc(a: Hlc, b: Hlc): Hlc {
  return compareHlc(a, b) >= 0 ? a : b;
}

/** The timestamp of a local event, given the last timestamp issued and the physical clock reading. */
export function nextHlc(last: Hlc, physicalMs: number): Hlc {
  if (physicalMs > last.wallTimeMs) {
    return { wallTimeMs: physicalMs, logical: 0 };
  }
  return { wallTimeMs: last.wallTimeMs, logical: nextLogical(last.logical) };
}

/** The timestamp after observing `remote`: greater than both `last` and `remote` (Kulkarni et al., 2014). */
export function receiveHlc(last: Hlc, remote: Hlc, physicalMs: number): Hlc {
  const wallTimeMs = Math.max(last.wallTimeMs, remote.wallTimeMs, physicalMs);
  if (wallTimeMs === last.wallTimeMs && wallTimeMs === remote.wallTimeMs) {
    return { wallTimeMs, logical: nextLogical(Math.max(last.logical, remote.logical)) };
  }
  if (wallTimeMs === last.wallTimeMs) {
    return { wallTimeMs, logical: nextLogical(last.logical) };
  }
  if (wallTimeMs === remote.wallTimeMs) {
    return { wallTimeMs, logical: nextLogical(remote.logical) };
  }
  return { wallTimeMs, logical: 0 };
}

function nextLogical(logical: number): number {
  if (logical >= MAX_LOGICAL) {
    // Only reachable if the physical clock stalls for 2^31 events or a peer sends a forged counter.
    throw new RangeError(`HLC logical counter overflow (${logical})`);
  }
  return logical + 1;
}

/**
 * A hybrid logical clock. Timestamps it issues strictly increase and exceed every timestamp it has
 * observed, whatever the physical clock does. The physical clock is injected so that tests and replays
 * control time.
 */
export class HybridLogicalClock {
  private last: Hlc;

  /**
   * @param physicalNowMs reads the physical clock, in ms since the epoch.
   * @param initial the last timestamp issued before a restart, so that a clock stepping back
   *   across the restart cannot reissue an older timestamp.
   */
  constructor(
    private readonly physicalNowMs: () => number,
    initial: Hlc = { wallTimeMs: 0, logical: 0 },
  ) {
    this.last = initial;
  }

  /** Timestamp for a local event. */
  now(): Hlc {
    this.last = nextHlc(this.last, this.physicalNowMs());
    return this.last;
  }

  /** Merges a timestamp received from another site and returns the timestamp of the receive event. */
  receive(remote: Hlc): Hlc {
    this.last = receiveHlc(this.last, remote, this.physicalNowMs());
    return this.last;
  }

  /** The last timestamp issued, without advancing the clock. */
  peek(): Hlc {
    return this.last;
  }
}
