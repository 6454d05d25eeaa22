/** `tandem replay`: the events of a site's topics in a time window, to JSON lines or a fresh database. */
import type { Admin, Kafka } from "kafkajs";
import type { EventCodec } from "@tandem/events";
import { inWindow, selectTopics, totalRecords, windowRanges, type OffsetRange } from "./plan";
import { offsetsAt, partitionOffsets, readRanges } from "./reader";
import { tenantOf, viewRecord, type RecordView } from "./records";

export interface ReplayPlan {
  topics: string[];
  ranges: OffsetRange[];
  fromMs: number | undefined;
  toMs: number | undefined;
  /** Records in the ranges, before the time and tenant filters. */
  total: number;
}

/**
 * Looks up each topic's offsets at `--from` and `--to` by timestamp, and the end offsets now: the replay
 * stops there, so events arriving meanwhile do not make it endless.
 */
export async function planReplay(
  admin: Admin,
  site: string,
  selectors: readonly string[],
  window: { fromMs: number | undefined; toMs: number | undefined },
): Promise<ReplayPlan> {
  const topics = selectTopics(selectors, await admin.listTopics(), site);
  const ranges: OffsetRange[] = [];
  for (const topic of topics) {
    const offsets = await partitionOffsets(admin, topic);
    const from = window.fromMs === undefined ? undefined : await offsetsAt(admin, topic, window.fromMs);
    const to = window.toMs === undefined ? undefined : await offsetsAt(admin, topic, window.toMs);
    ranges.push(...windowRanges(topic, offsets, from, to));
  }
  return { topics, ranges, fromMs: window.fromMs, toMs: window.toMs, total: totalRecords(ranges) };
}

export interface ReplaySummary {
  /** Records read in the planned ranges. */
  read: number;
  /** Events that passed the filters and went to the sink. */
  written: number;
  /** Records of the window and tenant that are not events (DecodeError). */
  bad: number;
  /** Records outside the time window or of another tenant. */
  filtered: number;
  /** False when Ctrl-C stopped the replay early. */
  complete: boolean;
  /**
   * After an early stop, a `--from` that misses nothing: the oldest last-read timestamp over the partitions
   * left unfinished (the events at that instant are read again). Undefined when complete, or when some
   * partition was not read at all (then the original `--from`).
   */
  resumeFrom: number | undefined;
}

/** Where replayed events go; called a batch at a time, in log order per partition. */
export type ReplaySink = (events: RecordView[]) => Promise<void>;

export async function runReplay(input: {
  kafka: Kafka;
  codec: EventCodec;
  plan: ReplayPlan;
  tenant: string | undefined;
  sink: ReplaySink;
  onBad: (view: RecordView) => void;
  onProgress?: (passed: number) => void;
  signal?: AbortSignal;
}): Promise<ReplaySummary> {
  const { plan, tenant } = input;
  const summary: ReplaySummary = {
    read: 0,
    written: 0,
    bad: 0,
    filtered: 0,
    complete: false,
    resumeFrom: undefined,
  };
  const lastRead = new Map<string, number>();
  const at = (topic: string, partition: number) => `${topic}/${partition}`;
  const unfinished = await readRanges(
    input.kafka,
    plan.ranges,
    async (records) => {
      summary.read += records.length;
      for (const r of records) lastRead.set(at(r.topic, r.partition), r.timestampMs);
      const inTime = records.filter((r) => inWindow(r.timestampMs, plan.fromMs, plan.toMs));
      const views = await Promise.all(inTime.map((record) => viewRecord(input.codec, record)));
      const wanted = views.filter((view) => tenant === undefined || tenantOf(view) === tenant);
      const events = wanted.filter((view) => view.error === undefined);
      summary.filtered += records.length - wanted.length;
      summary.bad += wanted.length - events.length;
      for (const view of wanted) if (view.error !== undefined) input.onBad(view);
      if (events.length === 0) return;
      await input.sink(events);
      summary.written += events.length;
    },
    { purpose: "replay", signal: input.signal, onProgress: input.onProgress },
  );
  summary.complete = unfinished.length === 0;
  summary.resumeFrom = resumePoint(
    unfinished.map((r) => lastRead.get(at(r.topic, r.partition))),
    plan.fromMs,
  );
  return summary;
}

/** The `--from` to resume an interrupted replay with, from the last timestamps read per unfinished partition. */
export function resumePoint(
  lastReadPerUnfinished: ReadonlyArray<number | undefined>,
  fromMs: number | undefined,
) {
  if (lastReadPerUnfinished.length === 0) return undefined;
  if (lastReadPerUnfinished.some((t) => t === undefined)) return fromMs;
  return Math.min(...(lastReadPerUnfinished as number[]));
}
