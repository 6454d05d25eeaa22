import { formatBytes } from "@tandem/recorder";

/** A rejected row as the report file holds it (one JSON object per line). */
export interface Reject {
  row: number;
  line: number;
  id?: string;
  reason: string;
}

export interface ImportTally {
  rows: number;
  /** Rows an earlier run imported (the state file said so). */
  skipped: number;
  imported: number;
  /** A dry run's rows that would be imported. */
  importable: number;
  bytes: number;
  rejected: number;
  elapsedMs: number;
}

/** Calls/s and MB/s over the rows this run imported. */
export function rates(tally: Pick<ImportTally, "imported" | "bytes" | "elapsedMs">): string {
  const seconds = Math.max(tally.elapsedMs, 1) / 1000;
  return `${(tally.imported / seconds).toFixed(1)} calls/s, ${formatBytes(tally.bytes / seconds)}/s`;
}

/** A progress line where no bar can be drawn (a log): rows done of all, the rate, and the ETA. */
export function progressLine(processed: number, total: number, imported: number, elapsedMs: number): string {
  const perSecond = processed / (Math.max(elapsedMs, 1) / 1000);
  const eta = perSecond > 0 ? Math.round((total - processed) / perSecond) : undefined;
  return (
    `  ${processed}/${total} rows (${total === 0 ? 100 : Math.floor((processed / total) * 100)}%), ` +
    `${imported} imported, ETA ${eta === undefined ? "unknown" : `${eta}s`}`
  );
}

function describeReject(reject: Reject): string {
  return `row ${reject.row} (line ${reject.line})${reject.id === undefined ? "" : ` id ${reject.id}`}: ${reject.reason}`;
}

/** The closing lines of an import: what was imported, at what rate, and what was rejected. */
export function summary(
  tally: ImportTally,
  rejects: { file: string; first: Reject[] },
  dryRun: boolean,
): string[] {
  const earlier = tally.skipped > 0 ? `; ${tally.skipped} already imported by an earlier run` : "";
  const lines = dryRun
    ? [`dry run: ${tally.importable} row(s) would be imported${earlier}; nothing published`]
    : [
        `imported ${tally.imported} call(s), ${formatBytes(tally.bytes)} of audio, in ` +
          `${(tally.elapsedMs / 1000).toFixed(1)}s (${rates(tally)})${earlier}`,
      ];
  if (tally.rejected === 0) return [...lines, "no row rejected"];
  return [
    ...lines,
    `${tally.rejected} row(s) rejected, listed in ${rejects.file}:`,
    ...rejects.first.map((r) => `  ${describeReject(r)}`),
    ...(tally.rejected > rejects.first.length
      ? [`  ... and ${tally.rejected - rejects.first.length} more`]
      : []),
  ];
}
