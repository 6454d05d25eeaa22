/** Which topics and offset ranges a replay or an inspection reads. Pure: offsets come from the adapters. */
import { STREAMS, type Stream } from "@tandem/config";
import { DLQ_TOPIC } from "@tandem/events";
import { topicsAtSite } from "@tandem/replication";
import { UsageError } from "../errors";

/** A partition's offsets as the admin client reports them (kafkajs gives strings). */
export interface PartitionOffsets {
  partition: number;
  low: number;
  high: number;
}

/** Offsets [start, end) of one partition. */
export interface OffsetRange {
  topic: string;
  partition: number;
  start: number;
  end: number;
}

/**
 * The topics a `--topic` selector names at a site: a stream (`calls`, `users`) is the site's local topic
 * plus every `<origin>.` copy of it; anything else must be an existing topic. Sorted, without repeats.
 */
export function selectTopics(
  selectors: readonly string[],
  existing: readonly string[],
  site: string,
): string[] {
  if (selectors.length === 0) throw new UsageError("--topic: name a stream (calls, users) or a topic");
  const chosen = new Set<string>();
  for (const selector of selectors) {
    if ((STREAMS as readonly string[]).includes(selector)) {
      for (const topic of topicsAtSite(existing, site, [selector as Stream])) chosen.add(topic);
    } else if (existing.includes(selector)) chosen.add(selector);
    else
      throw new UsageError(`--topic: no topic "${selector}" at site ${site} (${describeTopics(existing)})`);
  }
  return [...chosen].sort();
}

function describeTopics(existing: readonly string[]): string {
  const shown = existing.filter((t) => !t.startsWith("__")).sort();
  return shown.length === 0 ? "it has no topics" : `topics: ${shown.join(", ")}`;
}

/** The topic `tandem inspect` reads must exist; its name is taken as given. */
export function inspectedTopic(topic: string, existing: readonly string[], site: string): string {
  if (!existing.includes(topic)) {
    throw new UsageError(`--topic: no topic "${topic}" at site ${site} (${describeTopics(existing)})`);
  }
  return topic;
}

export function isDeadLetterTopic(topic: string): boolean {
  return topic === DLQ_TOPIC;
}

/**
 * The last `count` records of a topic, wherever they are: each partition's last `count` offsets. The
 * caller keeps the `count` newest by timestamp of what it reads.
 */
export function lastRanges(
  topic: string,
  offsets: readonly PartitionOffsets[],
  count: number,
): OffsetRange[] {
  return offsets
    .map(({ partition, low, high }) => ({ topic, partition, start: Math.max(low, high - count), end: high }))
    .filter((range) => range.end > range.start);
}

/**
 * A replay window per partition: from the first offset at or after `--from` (or the log start) to the
 * first offset at or after `--to`, never past the end captured when the replay started.
 */
export function windowRanges(
  topic: string,
  offsets: readonly PartitionOffsets[],
  fromOffsets: ReadonlyMap<number, number> | undefined,
  toOffsets: ReadonlyMap<number, number> | undefined,
): OffsetRange[] {
  return offsets
    .map(({ partition, low, high }) => {
      const start = Math.max(low, fromOffsets?.get(partition) ?? low);
      const end = Math.min(high, toOffsets?.get(partition) ?? high);
      return { topic, partition, start, end };
    })
    .filter((range) => range.end > range.start);
}

export function totalRecords(ranges: readonly OffsetRange[]): number {
  return ranges.reduce((sum, range) => sum + (range.end - range.start), 0);
}

/** The `count` newest records by timestamp, oldest first; equal timestamps keep log order per partition. */
export function newest<T extends { timestampMs: number; partition: number; offset: string }>(
  records: readonly T[],
  count: number,
): T[] {
  const sorted = [...records].sort(
    (a, b) =>
      a.timestampMs - b.timestampMs || a.partition - b.partition || Number(a.offset) - Number(b.offset),
  );
  return sorted.slice(Math.max(0, sorted.length - count));
}

/** Whether a record's timestamp is inside the window [from, to). */
export function inWindow(timestampMs: number, fromMs: number | undefined, toMs: number | undefined): boolean {
  return (fromMs === undefined || timestampMs >= fromMs) && (toMs === undefined || timestampMs < toMs);
}
