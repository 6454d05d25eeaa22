import { Command } from "commander";
import pino from "pino";
import { createKafka } from "@tandem/kafka";
import { defaults } from "../defaults";
import { acknowledgeGaps, describeGap, openGaps } from "@tandem/operations";
import { siteOf } from "./run";
import { topologyFor } from "./verify";

export function gapsCommand(): Command {
  return new Command("gaps")
    .description("records that retention deleted before a bridge or materializer read them")
    .option("--config <file>", "topology file (default: the local stack in --data-dir)")
    .option("--data-dir <dir>", "the local stack's data directory", defaults.dataDir)
    .option("--site <id>", "only this site's gaps")
    .option("--ack", "acknowledge the gaps listed (after tandem repair, or to accept the loss)")
    .addHelpText(
      "after",
      `
A consumer whose position fell below a partition's log start records the range it could not read in the
site's tandem.gaps; tandem status reports it (link or site data-lost, exit 1) until it is acknowledged here
or a tandem repair of the site it deprived (without --tenant or --from) leaves that site consistent.
Exit code 0 when no unacknowledged gap is left, 1 otherwise.

Examples:
  tandem gaps --config topology.yaml
  tandem gaps --config topology.yaml --site nyc --ack`,
    )
    .action(async (flags: { config?: string; dataDir: string; site?: string; ack?: boolean }) => {
      const topology = topologyFor(flags.config, flags.dataDir);
      if (flags.site !== undefined) siteOf(topology, flags.site);
      const sites = topology.sites.filter((s) => flags.site === undefined || s.id === flags.site);
      let open = 0;
      for (const site of sites) {
        const kafka = createKafka(site.kafka, "tandem-gaps", pino({ level: "silent" }));
        const gaps = await openGaps(kafka);
        for (const gap of gaps) console.log(`${flags.ack ? "acknowledged " : ""}${describeGap(gap)}`);
        if (flags.ack) await acknowledgeGaps(kafka, gaps, "accepted");
        else open += gaps.length;
      }
      if (open === 0 && !flags.ack) console.log("no unacknowledged gap");
      process.exitCode = open === 0 ? 0 : 1;
    });
}
