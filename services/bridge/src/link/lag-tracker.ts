import type { LinkMetrics } from "./link-metrics";

const LAG_SAMPLE_MS = 1000;

const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * How far a link is behind its source, per source partition: in records (the fetch's offset lag) and in
 * seconds (the age of the oldest record fetched and not yet forwarded; 0 when caught up).
 */
export class LagTracker {
  private readonly records = new Map<string, number>();
  /**
   * Per source partition, the timestamp of the oldest record fetched and not yet forwarded. After a batch
   * that left records behind it is the batch's last timestamp: the next record is no older.
   */
  private readonly oldestPendingAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly metrics: LinkMetrics,
    private readonly linkId: string,
  ) {}

  /** While a delivery waits for a peer, no batch completes: the age of what waits grows all the same. */
  start(): void {
    this.timer = setInterval(() => this.publishSeconds(), LAG_SAMPLE_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  fetched(topic: string, partition: number, offsetLag: number, firstTimestamp: string | undefined): void {
    const key = partitionKey(topic, partition);
    this.records.set(key, offsetLag);
    if (firstTimestamp !== undefined) this.oldestPendingAt.set(key, Number(firstTimestamp));
    this.metrics.lagRecords.set({ link: this.linkId }, this.lagRecords());
  }

  forwarded(topic: string, partition: number, offsetLag: number, lastTimestamp: string | undefined): void {
    const key = partitionKey(topic, partition);
    if (offsetLag > 0 && lastTimestamp !== undefined) this.oldestPendingAt.set(key, Number(lastTimestamp));
    else this.oldestPendingAt.delete(key);
    this.publishSeconds();
  }

  /** A rebalance may move partitions elsewhere: their lag is learnt again from the next batches. */
  clear(): void {
    this.records.clear();
    this.oldestPendingAt.clear();
  }

  lagRecords(): number {
    return [...this.records.values()].reduce((a, b) => a + b, 0);
  }

  lagSeconds(): number {
    const oldest = Math.min(...this.oldestPendingAt.values());
    return Number.isFinite(oldest) ? Math.max(0, Date.now() - oldest) / 1000 : 0;
  }

  private publishSeconds(): void {
    this.metrics.lagSeconds.set({ link: this.linkId }, this.lagSeconds());
  }
}
