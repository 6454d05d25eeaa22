import type { VerifyReport } from "@tandem/operations";

/** A conflict as every site must show it alike (when it was detected is local, so not part of it). */
export interface ConflictRow {
  userId: string;
  field: string;
  status: string;
  winner: string;
}

/** What one site's database holds of the soak's tenants. */
export interface SiteReading {
  site: string;
  calls: number;
  conflicts: ConflictRow[];
}

const conflictKey = (c: ConflictRow) => `${c.userId}/${c.field}/${c.status}/${c.winner}`;

/**
 * Why the sites have not converged yet, in words; empty when they have: the audit finds no difference
 * (audio present with its sha256 included), every site holds exactly the calls recorded (no loss, no
 * duplicate), and every site shows the same conflicts with the same outcome.
 */
export function convergenceProblems(
  audit: VerifyReport,
  readings: readonly SiteReading[],
  callsRecorded: number,
): string[] {
  const problems: string[] = [];
  if (!audit.consistent) {
    const causes = new Map<string, number>();
    for (const d of audit.differences) causes.set(d.cause, (causes.get(d.cause) ?? 0) + 1);
    problems.push(`audit: ${[...causes].map(([cause, n]) => `${n} ${cause}`).join(", ")}`);
  }
  for (const reading of readings) {
    if (reading.calls !== callsRecorded)
      problems.push(`${reading.site}: ${reading.calls} calls, ${callsRecorded} recorded`);
  }
  const [first, ...others] = readings;
  if (first !== undefined) {
    const reference = first.conflicts.map(conflictKey).sort().join("\n");
    for (const other of others) {
      if (other.conflicts.map(conflictKey).sort().join("\n") !== reference)
        problems.push(
          `${other.site}: conflicts differ from ${first.site} (${other.conflicts.length} vs ${first.conflicts.length})`,
        );
    }
  }
  return problems;
}
