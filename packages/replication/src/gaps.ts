import { linkName } from "./ids";

/**
 * A range of records that retention deleted before a consumer group read them: the group's committed
 * position was below the partition's log start. Written to the site's `tandem.gaps` by the service that
 * found it, read by `tandem status` and `tandem gaps`; an acknowledgement is the same record again with
 * `acknowledgedAt`, under the same key.
 */
export interface LostRange {
  topic: string;
  partition: number;
  /** First and last lost offsets, inclusive. */
  firstOffset: string;
  lastOffset: string;
  count: number;
}

export interface GapRecord extends LostRange {
  /** The site whose cluster held the topic. */
  site: string;
  /** Who found it: `bridge nyc->lon`, `materializer lon` (see `gapComponent`). */
  component: string;
  groupId: string;
  detectedAt: string;
  acknowledgedAt?: string;
  /** How it was dealt with: `tandem repair` healed the site it deprived, or an operator accepted it. */
  resolution?: GapResolution;
}

export type GapResolution = "repaired" | "accepted";

/** The consumers that record gaps, named as `tandem status` and `tandem repair` look for them. */
export const gapComponent = {
  bridge: (link: { from: string; to: string }): string => `bridge ${linkName(link)}`,
  materializer: (site: string): string => `materializer ${site}`,
};

/**
 * Whether a gap kept records from `site`: one found by a link into it, or by its own materializer.
 * A repair of that site that leaves it consistent with every site feeding it heals the gap.
 */
export function gapDeprives(gap: Pick<GapRecord, "component">, site: string): boolean {
  return (
    gap.component === gapComponent.materializer(site) ||
    (gap.component.startsWith("bridge ") && gap.component.endsWith(`->${site}`))
  );
}

export const gapKey = (gap: Pick<GapRecord, "groupId" | "topic" | "partition" | "firstOffset">): string =>
  `${gap.groupId}/${gap.topic}/${gap.partition}/${gap.firstOffset}`;

export function gapMessage(gap: GapRecord): { key: string; value: string } {
  return { key: gapKey(gap), value: JSON.stringify(gap) };
}

/** The latest record of each gap, keyed as written; unreadable records are skipped. */
export function latestGaps(values: ReadonlyArray<Buffer | null>): Map<string, GapRecord> {
  const gaps = new Map<string, GapRecord>();
  for (const value of values) {
    const gap = parseGap(value);
    if (gap !== undefined) gaps.set(gapKey(gap), gap);
  }
  return gaps;
}

function parseGap(value: Buffer | null): GapRecord | undefined {
  try {
    const parsed = JSON.parse(value?.toString() ?? "") as Partial<GapRecord>;
    const text = (field: unknown) => typeof field === "string";
    if (
      text(parsed.site) &&
      text(parsed.component) &&
      text(parsed.groupId) &&
      text(parsed.topic) &&
      typeof parsed.partition === "number" &&
      text(parsed.firstOffset) &&
      text(parsed.lastOffset) &&
      typeof parsed.count === "number" &&
      text(parsed.detectedAt)
    ) {
      return parsed as GapRecord;
    }
  } catch {
    // Not a gap record: skipped like any foreign record on the topic.
  }
  return undefined;
}
