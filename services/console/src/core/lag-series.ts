export interface LagSample {
  atMs: number;
  lagRecords: number | undefined;
  lagSeconds: number | undefined;
  /** Records the link forwarded per second since the previous sample; undefined for the first. */
  recordsPerSecond: number | undefined;
}

export interface LagReading {
  atMs: number;
  lagRecords: number | undefined;
  lagSeconds: number | undefined;
  /** Records the link has forwarded so far (its committed source offsets), when readable. */
  forwardedTotal: number | undefined;
}

/**
 * Each link's lag and throughput over a bounded window, in memory: the samples older than `windowMs` are
 * dropped, and at most `maxSamples` are kept per link whatever the sampling rate.
 */
export class LagSeries {
  private readonly samples = new Map<string, LagSample[]>();
  private readonly lastForwarded = new Map<string, { atMs: number; total: number }>();

  constructor(
    private readonly windowMs: number,
    private readonly maxSamples: number,
  ) {}

  add(link: string, reading: LagReading): void {
    const previous = this.lastForwarded.get(link);
    let recordsPerSecond: number | undefined;
    if (reading.forwardedTotal !== undefined) {
      // A total that went down (offsets reset by a repair or a new group) starts the rate afresh.
      if (
        previous !== undefined &&
        reading.forwardedTotal >= previous.total &&
        reading.atMs > previous.atMs
      ) {
        recordsPerSecond =
          ((reading.forwardedTotal - previous.total) * 1000) / (reading.atMs - previous.atMs);
      }
      this.lastForwarded.set(link, { atMs: reading.atMs, total: reading.forwardedTotal });
    }
    const list = this.samples.get(link) ?? [];
    list.push({
      atMs: reading.atMs,
      lagRecords: reading.lagRecords,
      lagSeconds: reading.lagSeconds,
      recordsPerSecond,
    });
    const oldest = reading.atMs - this.windowMs;
    let drop = 0;
    while (drop < list.length && list[drop]!.atMs < oldest) drop++;
    drop = Math.max(drop, list.length - this.maxSamples);
    if (drop > 0) list.splice(0, drop);
    this.samples.set(link, list);
  }

  series(link: string): readonly LagSample[] {
    return this.samples.get(link) ?? [];
  }

  links(): string[] {
    return [...this.samples.keys()];
  }
}
