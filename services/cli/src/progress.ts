import { SingleBar } from "cli-progress";

/** A progress bar with an ETA on stderr; cli-progress draws nothing when stderr is not a terminal (logs, tests). */
export function progressBar(total: number, unit: string): SingleBar {
  const bar = new SingleBar({
    stream: process.stderr,
    format: `  [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted} elapsed, ETA {eta_formatted}`,
    barCompleteChar: "#",
    barIncompleteChar: "-",
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
  });
  bar.start(total, 0);
  return bar;
}
