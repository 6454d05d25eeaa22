import { Command, InvalidArgumentError } from "commander";
import { defaults } from "../defaults";
import { DEFAULT_THRESHOLDS, collectStatus, formatStatus } from "@tandem/operations";
import { topologyFor } from "./verify";

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number >= 0");
  return n;
}

export function statusCommand(): Command {
  return new Command("status")
    .description(
      "per link and per site: health, lag, last heartbeat, DLQ size, open conflicts, audio copies pending",
    )
    .option("--config <file>", "topology file (default: the local stack in --data-dir)")
    .option("--data-dir <dir>", "the local stack's data directory", defaults.dataDir)
    .option(
      "--max-lag <records>",
      "a link further behind is 'behind'",
      count,
      DEFAULT_THRESHOLDS.maxLagRecords,
    )
    .option(
      "--max-lag-seconds <s>",
      "a link whose heartbeat is older is 'behind'",
      count,
      DEFAULT_THRESHOLDS.maxLagSeconds,
    )
    .option(
      "--down-after <s>",
      "an open link without a heartbeat for this long is 'down'",
      count,
      DEFAULT_THRESHOLDS.downAfterSeconds,
    )
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      `
Exit code 0 when every link is ok or paused by its schedule, 1 when one is down or behind: for monitoring.

Examples:
  tandem status
  tandem status --config topology.yaml --max-lag 1000 --json`,
    )
    .action(
      async (flags: {
        config?: string;
        dataDir: string;
        maxLag: number;
        maxLagSeconds: number;
        downAfter: number;
        json?: boolean;
      }) => {
        const report = await collectStatus(topologyFor(flags.config, flags.dataDir), {
          maxLagRecords: flags.maxLag,
          maxLagSeconds: flags.maxLagSeconds,
          downAfterSeconds: flags.downAfter,
        });
        console.log(flags.json ? JSON.stringify(report, null, 2) : formatStatus(report).join("\n"));
        process.exitCode = report.healthy ? 0 : 1;
      },
    );
}
