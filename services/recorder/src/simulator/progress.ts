/** What a recorder run has produced so far. */
export interface Stats {
  site: string;
  elapsedMs: number;
  calls: number;
  userChanges: number;
  /** Events published: calls plus user changes. */
  events: number;
  /** Audio bytes stored for the published calls. */
  audioBytes: number;
  /** Publish attempts that failed and were retried. */
  retries: number;
  /** Items given up: a permanent error, or a stop during retries. */
  failed: number;
  /** Slots dropped because publishing could not keep up with the requested rates. */
  behind: number;
  callsPerSecond: number;
  userChangesPerSecond: number;
  eventsPerSecond: number;
  audioBytesPerSecond: number;
  finished: boolean;
}

export interface Counters {
  calls: number;
  userChanges: number;
  audioBytes: number;
  retries: number;
  failed: number;
  behind: number;
}

export function emptyCounters(): Counters {
  return { calls: 0, userChanges: 0, audioBytes: 0, retries: 0, failed: 0, behind: 0 };
}

/** Stats with rates averaged over the run. */
export function statsOf(site: string, counters: Counters, elapsedMs: number, finished: boolean): Stats {
  const seconds = Math.max(elapsedMs, 1) / 1000;
  const events = counters.calls + counters.userChanges;
  return {
    site,
    elapsedMs,
    ...counters,
    events,
    callsPerSecond: counters.calls / seconds,
    userChangesPerSecond: counters.userChanges / seconds,
    eventsPerSecond: events / seconds,
    audioBytesPerSecond: counters.audioBytes / seconds,
    finished,
  };
}

export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function formatElapsed(ms: number): string {
  const total = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(Math.floor(total / 3600))}:${two(Math.floor(total / 60) % 60)}:${two(total % 60)}`;
}

/** One progress line, e.g. `nyc 00:01:05 calls 130 (2.00/s) users 33 (0.51/s) audio 52.1 MB (801.5 kB/s)`. */
export function formatProgress(stats: Stats): string {
  const parts = [
    stats.site,
    formatElapsed(stats.elapsedMs),
    `calls ${stats.calls} (${stats.callsPerSecond.toFixed(2)}/s)`,
    `users ${stats.userChanges} (${stats.userChangesPerSecond.toFixed(2)}/s)`,
    `audio ${formatBytes(stats.audioBytes)} (${formatBytes(stats.audioBytesPerSecond)}/s)`,
  ];
  if (stats.retries > 0) parts.push(`retries ${stats.retries}`);
  if (stats.failed > 0) parts.push(`failed ${stats.failed}`);
  if (stats.behind > 0) parts.push(`behind ${stats.behind}`);
  if (stats.finished) parts.push("done");
  return parts.join("  ");
}
