import type { TopicPartitionOffsetAndMetadata } from "kafkajs";

/**
 * Source offsets committed off the data path: a consumer far from its cluster would otherwise wait a round
 * trip per batch for a commit that only shortens what a restart reads again. One commit is in flight at a
 * time, holding each partition's latest offset, so a partition's commits never go backwards; those noted
 * while it flies go in the next. A failed commit keeps its offsets for the next attempt unless newer ones
 * or a new assignment replaced them.
 */
export class BackgroundCommits {
  private readonly pending = new Map<string, TopicPartitionOffsetAndMetadata>();
  /** Resolves to whether the commit went through. */
  private inFlight: Promise<boolean> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly commit: (offsets: TopicPartitionOffsetAndMetadata[]) => Promise<void>,
    private readonly options: {
      /** Before a failed commit is tried again, unless another offset is noted sooner. */
      retryAfterMs: number;
      failed?: (error: unknown) => void;
    },
  ) {}

  /** Queues the offsets and starts a commit unless one is in flight. */
  note(offsets: TopicPartitionOffsetAndMetadata[]): void {
    for (const offset of offsets) this.pending.set(key(offset), offset);
    this.kick();
  }

  /**
   * Keeps only the partitions an instance still owns: an offset of a partition that moved, committed late,
   * would set its new owner back.
   */
  retain(owned: (topic: string, partition: number) => boolean): void {
    for (const [k, offset] of this.pending) {
      if (!owned(offset.topic, offset.partition)) this.pending.delete(k);
    }
  }

  /**
   * Resolves once everything noted so far was committed or failed once (a failure stays queued): before
   * leaving the group.
   */
  async flush(): Promise<void> {
    for (;;) {
      while (this.inFlight !== undefined) {
        if (!(await this.inFlight)) return this.stopRetrying();
      }
      this.stopRetrying();
      if (this.pending.size === 0) return;
      this.start({ retry: false });
    }
  }

  get size(): number {
    return this.pending.size;
  }

  private kick(): void {
    if (this.inFlight !== undefined || this.pending.size === 0) return;
    this.stopRetrying();
    this.start({ retry: true });
  }

  private stopRetrying(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private start({ retry }: { retry: boolean }): void {
    const offsets = [...this.pending.values()];
    this.pending.clear();
    this.inFlight = this.commit(offsets).then(
      () => {
        this.inFlight = undefined;
        this.kick();
        return true;
      },
      (error: unknown) => {
        this.inFlight = undefined;
        for (const offset of offsets) {
          if (!this.pending.has(key(offset))) this.pending.set(key(offset), offset);
        }
        this.options.failed?.(error);
        if (retry && this.pending.size > 0 && this.retryTimer === undefined) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.kick();
          }, this.options.retryAfterMs);
          this.retryTimer.unref();
        }
        return false;
      },
    );
  }
}

const key = ({ topic, partition }: { topic: string; partition: number }) => `${topic}\u0000${partition}`;
