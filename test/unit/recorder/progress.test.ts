import { describe, expect, it } from "vitest";
import { formatBytes, formatProgress, type Stats } from "../../../services/recorder/src/simulator";

const stats: Stats = {
  site: "sfo",
  elapsedMs: 3_725_000,
  calls: 7450,
  userChanges: 1862,
  events: 9312,
  audioBytes: 2_981_000_000,
  retries: 0,
  failed: 0,
  behind: 0,
  callsPerSecond: 2,
  userChangesPerSecond: 0.4998,
  eventsPerSecond: 2.5,
  audioBytesPerSecond: 800_268,
  finished: false,
};

describe("progress", () => {
  it("shows counts, rates and bytes on one line", () => {
    expect(formatProgress(stats)).toBe(
      "sfo  01:02:05  calls 7450 (2.00/s)  users 1862 (0.50/s)  audio 3.0 GB (800.3 kB/s)",
    );
  });

  it("mentions retries, failures, a shortfall and the end only when there are some", () => {
    const line = formatProgress({ ...stats, retries: 3, failed: 1, behind: 12, finished: true });
    expect(line).toMatch(/retries 3 {2}failed 1 {2}behind 12 {2}done$/);
  });

  it("formats bytes in decimal units", () => {
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1_500_000)).toBe("1.5 MB");
  });
});
