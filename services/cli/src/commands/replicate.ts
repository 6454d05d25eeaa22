import { Command } from "commander";
import { requestCatchUp } from "@tandem/operations";
import { UsageError } from "../errors";

export const LINK_PATTERN = /^([a-z][a-z0-9-]{1,30})(?:->|-)([a-z][a-z0-9-]{1,30})$/;

export function replicateCommand(): Command {
  return new Command("replicate")
    .description("manual catch-up of a link: it runs whatever its schedule until it has caught up")
    .requiredOption("--link <from->to>", "the link, e.g. nyc->lon")
    .option("--now", "start the catch-up now (the only mode so far)")
    .option(
      "--bridge-url <url>",
      "the bridge's operations endpoint (tandem run --bridge-ops-port)",
      process.env.TANDEM_BRIDGE_URL,
    )
    .addHelpText(
      "after",
      `
The bridge that runs the link must have an operations port: 'tandem run ... --bridge-ops-port 9401'.

Examples:
  tandem replicate --link nyc->lon --now --bridge-url http://lon-bridge:9401`,
    )
    .action(async (flags: { link: string; now?: boolean; bridgeUrl?: string }) => {
      const match = LINK_PATTERN.exec(flags.link);
      if (!match) throw new UsageError(`--link: expected <from>-><to>, got "${flags.link}"`);
      if (!flags.now) throw new UsageError("--now is required: a catch-up starts when asked");
      if (!flags.bridgeUrl) throw new UsageError("--bridge-url (or TANDEM_BRIDGE_URL) is required");
      const outcome = await requestCatchUp(flags.bridgeUrl, { from: match[1]!, to: match[2]! });
      if (outcome === "unknown-link")
        throw new UsageError(`the bridge at ${flags.bridgeUrl} does not run link ${match[1]}->${match[2]}`);
      console.log(`catch-up of ${match[1]}->${match[2]} started; 'tandem status' shows its lag`);
    });
}
