/**
 * The event ids a link delivered lately from each source partition, to count any it delivers again: the
 * duplicates a bridge can see for itself. Memory is bounded: a partition keeps its last `capacity` ids.
 */
export class DuplicateWindow {
  /** Per partition, the ids in delivery order (a Set keeps insertion order: the first is the oldest). */
  private readonly partitions = new Map<string, Set<string>>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error("capacity must be a whole number ≥ 1");
  }

  /** Notes ids delivered from a partition; returns those its window already held. */
  delivered(partition: string, eventIds: readonly string[]): string[] {
    let window = this.partitions.get(partition);
    if (window === undefined) this.partitions.set(partition, (window = new Set()));
    const seen: string[] = [];
    for (const id of eventIds) {
      if (window.delete(id)) seen.push(id);
      window.add(id);
      if (window.size > this.capacity) window.delete(window.values().next().value!);
    }
    return seen;
  }
}
