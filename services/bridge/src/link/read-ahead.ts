/**
 * Delivery of a source partition's batches in order while kafkajs fetches the next one: kafkajs fetches
 * again only once the batches of its last fetch were handled, so a link that delivered before returning
 * would leave its long source link idle for a whole delivery per fetch. Each partition holds at most two
 * batches: the one being delivered and the one fetched meanwhile.
 */
export class ReadAhead {
  /**
   * Per partition, the last batch queued: it resolves to whether it was delivered. One that was not (or
   * failed) stays, so that no later batch of the partition is delivered and commits an offset past records
   * the target never got, until the group's next assignment.
   */
  private tails = new Map<string, Promise<boolean>>();
  private readonly pending = new Set<Promise<unknown>>();

  /**
   * Queues `deliver` after the partition's previous batch and resolves once that previous batch is
   * delivered, when the next fetch may start. Rejects with the previous batch's error, and resolves false
   * when it was abandoned (its partition moved, or the link stops): this batch is then abandoned too.
   */
  async queue(partition: string, deliver: () => Promise<boolean>): Promise<boolean> {
    const tails = this.tails;
    const previous = tails.get(partition) ?? Promise.resolve(true);
    const done = previous.then((delivered) => (delivered ? deliver() : false));
    tails.set(partition, done);
    const settled = done.then(
      (delivered) => {
        if (delivered && tails.get(partition) === done) tails.delete(partition);
      },
      () => {},
    );
    this.pending.add(settled);
    void settled.finally(() => this.pending.delete(settled));
    return previous;
  }

  /**
   * After a rebalance kafkajs fetches each partition it still owns from the group's committed offset: new
   * batches no longer follow the old ones, which finish (or are abandoned) on their own.
   */
  restart(): void {
    this.tails = new Map();
  }

  /** Resolves once every batch queued so far is delivered, abandoned or failed. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
