import type { DeadLetterView } from "@tandem/operations";

export interface DlqFilter {
  /** Kept when the reason contains it (case-insensitive). */
  reason?: string;
  /** ISO times, inclusive. */
  since?: string;
  until?: string;
}

export function matchesDlqFilter(record: DeadLetterView, filter: DlqFilter): boolean {
  if (filter.reason && !record.reason.toLowerCase().includes(filter.reason.toLowerCase())) return false;
  const at = Date.parse(record.at);
  if (filter.since && at < Date.parse(filter.since)) return false;
  if (filter.until && at > Date.parse(filter.until)) return false;
  return true;
}

/** The reasons present, most frequent first, with counts: the filter's choices. */
export function reasonCounts(records: readonly DeadLetterView[]): Array<{ reason: string; count: number }> {
  const counts = new Map<string, number>();
  for (const record of records) {
    // Reasons carry coordinates after a colon; the kind before it is what an operator filters on.
    const kind = record.reason.split(":")[0]!.trim();
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
}
