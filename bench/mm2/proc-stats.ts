import fs from "node:fs";

/** Linux reports process CPU time in clock ticks; USER_HZ is 100 on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessStats {
  /** Peak resident set size (VmHWM), bytes. */
  peakRssBytes: number;
  /** User plus system CPU time, seconds. */
  cpuSeconds: number;
}

/** Reads VmHWM and CPU time of a live process from /proc; undefined once it has exited. */
export function readProcessStats(pid: number): ProcessStats | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const hwmKb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the line.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { peakRssBytes: hwmKb * 1024, cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/**
 * Samples a process until stopped, keeping the last reading: VmHWM is already a high-water mark and CPU
 * time only grows, so the last sample before exit is the figure; sampling guards against a sudden exit.
 */
export class ProcessSampler {
  private last: ProcessStats = { peakRssBytes: 0, cpuSeconds: 0 };
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 250,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  sample(): ProcessStats {
    const now = readProcessStats(this.pid);
    if (now !== undefined) this.last = now;
    return this.last;
  }

  stop(): ProcessStats {
    clearInterval(this.timer);
    return this.sample();
  }
}
