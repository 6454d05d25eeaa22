import fs from "node:fs";

interface LogLine {
  level?: number;
  msg?: string;
  err?: { message?: string };
}

const WARN = 40;

/**
 * What a service's JSON log says went wrong: its warnings and errors grouped by message and cause, most
 * frequent first. A soak that does not converge prints this, since CI keeps no log files.
 */
export function logWarnings(file: string, limit = 8): string[] {
  if (!fs.existsSync(file)) return [];
  const counts = new Map<string, number>();
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    let entry: LogLine;
    try {
      entry = JSON.parse(line) as LogLine;
    } catch {
      continue;
    }
    if ((entry.level ?? 0) < WARN) continue;
    const cause = entry.err?.message === undefined ? "" : `: ${entry.err.message.slice(0, 160)}`;
    const key = `${entry.msg ?? "(no message)"}${cause}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, count]) => `${count}x ${key}`);
}
