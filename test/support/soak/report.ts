import { FAULT_KINDS } from "./schedule";
import type { SoakReport } from "./soak";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** The figures of a soak run, for a terminal or a note. */
export function formatSoakReport(report: SoakReport): string[] {
  const calls = report.recorded.reduce((sum, s) => sum + s.calls, 0);
  const userChanges = report.recorded.reduce((sum, s) => sum + s.userChanges, 0);
  const audioBytes = report.recorded.reduce((sum, s) => sum + s.audioBytes, 0);
  const retries = report.recorded.reduce((sum, s) => sum + s.retries, 0);
  const givenUp = report.recorded.reduce((sum, s) => sum + s.failed, 0);
  const injected = FAULT_KINDS.map((kind) => `${kind} ${report.faultsInjected[kind]}`).join(", ");
  const exits = Object.entries(report.unexpectedExits).filter(([, n]) => n > 0);
  const lines = [
    `soak ${report.runId} (seed ${report.seed}): ${report.converged ? "CONVERGED" : "NOT CONVERGED"}`,
    `events produced: ${report.eventsProduced} (${calls} calls with ${(audioBytes / 1e6).toFixed(1)} MB of audio, ` +
      `${userChanges} user changes, ${report.contestedEdits} concurrent edits); recorder retries ${retries}, given up ${givenUp}`,
    `faults injected: ${report.schedule.length} (${injected}); at most ${report.peakConcurrentFaults} at once`,
    `time to converge after the last fault: ${seconds(report.convergeMs)}`,
    `max lag seen: ${report.maxLag.records} records, ${report.maxLag.seconds.toFixed(1)}s`,
    ...report.readings.map(
      (r) =>
        `  ${r.site}: ${r.calls} calls (recorded ${report.callsRecorded}), ${r.conflicts.length} conflicts`,
    ),
    `unexpected service exits: ${exits.length === 0 ? "none" : exits.map(([name, n]) => `${name} ${n}`).join(", ")}`,
  ];
  for (const problem of report.problems) lines.push(`  problem: ${problem}`);
  for (const difference of report.audit.differences.slice(0, 10))
    lines.push(
      `  difference: ${difference.kind} ${difference.id} at ${difference.site}: ${difference.cause} (${difference.detail})`,
    );
  for (const [service, warnings] of Object.entries(report.serviceWarnings)) {
    if (warnings.length === 0) continue;
    lines.push(`  ${service} logged:`);
    for (const warning of warnings) lines.push(`    ${warning}`);
  }
  return lines;
}
