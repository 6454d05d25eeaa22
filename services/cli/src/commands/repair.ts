import { Command, InvalidArgumentError } from "commander";
import { defaults } from "../defaults";
import { UsageError } from "../errors";
import { progressBar } from "../progress";
import { sourceRefusal } from "../repair/core/plan";
import { repair } from "../repair/repair";
import { Expectations } from "@tandem/operations";
import { parseList } from "./stack";
import { siteOf } from "./run";
import { formatReport, topologyFor } from "./verify";

const say = (line: string) => process.stderr.write(`${line}\n`);

function seconds(value: string): number {
  const parsed = Number(value);
  if (!(parsed >= 0)) throw new InvalidArgumentError("expected a number of seconds >= 0");
  return parsed;
}

export function repairCommand(): Command {
  return new Command("repair")
    .description("anti-entropy that heals: republish what a site lacks from the sites that hold it")
    .option("--config <file>", "topology file (default: the local stack in --data-dir)")
    .option("--data-dir <dir>", "the local stack's data directory", defaults.dataDir)
    .requiredOption("--to <site>", "the site to repair")
    .option("--from <site>", "publish only rows held by this site (default: the best holder of each call)")
    .option("--tenant <uuids>", "only these tenants (comma-separated)", parseList)
    .option("--dry-run", "list what would be done and change nothing")
    .option(
      "--grace <seconds>",
      "a call first seen this recently is left to the bridges",
      seconds,
      defaults.repair.graceSeconds,
    )
    .option(
      "--wait <seconds>",
      "how long to wait for the target's materializer to apply and copy",
      seconds,
      defaults.repair.waitSeconds,
    )
    .addHelpText(
      "after",
      `
For each call the target should hold (per the topology's links, filters and relay paths) but lacks, or
holds with failed audio, the call's CallCompleted event (same event id and audio reference) is published
into the target's <origin>.calls.completed, as the bridges would have delivered it; the target's
materializer applies it and copies the audio from any site that holds a verified copy. A call whose audio
no site holds is dead-lettered at the target, never marked present. Filters are honoured on every path.
It ends with a verify of the target against the sites that fed it: exit 0 only when consistent. Running
it again, or after Ctrl-C, publishes only what is still missing.

Examples:
  tandem repair --config topology.yaml --to lon --dry-run
  tandem repair --config topology.yaml --to lon
  tandem repair --config topology.yaml --to sfo --from lon --tenant 6c1d...`,
    )
    .action(
      async (flags: {
        config?: string;
        dataDir: string;
        to: string;
        from?: string;
        tenant?: string[];
        dryRun?: boolean;
        grace: number;
        wait: number;
      }) => {
        const topology = topologyFor(flags.config, flags.dataDir);
        siteOf(topology, flags.to);
        if (flags.from !== undefined) {
          siteOf(topology, flags.from);
          const refusal = sourceRefusal(new Expectations(topology), flags.from, flags.to);
          if (refusal !== undefined) throw new UsageError(refusal);
        }
        const scope = [
          `repair ${flags.to}`,
          flags.from === undefined ? "from every site that holds the calls" : `from ${flags.from}`,
          ...(flags.tenant === undefined ? [] : [`tenant ${flags.tenant.join(", ")}`]),
        ];
        say(`${scope.join(", ")}${flags.dryRun ? " (dry run)" : ""}`);
        const outcome = await repair(
          topology,
          {
            target: flags.to,
            from: flags.from,
            tenants: flags.tenant,
            dryRun: flags.dryRun ?? false,
            inFlightGraceMs: flags.grace * 1000,
            applyTimeoutMs: flags.wait * 1000,
          },
          {
            say,
            progress: (total, unit) => {
              const bar = progressBar(total, unit);
              return { update: (done) => bar.update(done), stop: () => bar.stop() };
            },
          },
        );
        if (outcome.report !== undefined) console.log(formatReport(outcome.report).join("\n"));
        process.exitCode = flags.dryRun || outcome.consistent ? 0 : 1;
      },
    );
}
