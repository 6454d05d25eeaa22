import { registryAuthOf } from "@tandem/config";
import { Command } from "commander";
import { EventCodec } from "@tandem/events";
import { createKafka } from "@tandem/kafka";
import { createLogger } from "@tandem/runtime";
import { defaults } from "../defaults";
import { formatRecord } from "../replay/format";
import { inspectTopic } from "../replay/inspect";
import { parseLast } from "../replay/request";
import { siteOf } from "./run";
import { topologyFor } from "./verify";

interface InspectFlags {
  config?: string;
  dataDir: string;
  site: string;
  topic: string;
  last: number;
  json?: boolean;
}

export function inspectCommand(): Command {
  return new Command("inspect")
    .description(
      "the last records of a topic at a site, decoded with the site's registry, with their headers",
    )
    .requiredOption("--site <id>", "the site whose Kafka cluster is read")
    .requiredOption(
      "--topic <name>",
      "calls.completed, users.changed, a remote copy such as lon.calls.completed, or tandem.dlq",
    )
    .option("--last <n>", "how many records", parseLast, defaults.inspect.last)
    .option("--json", "one JSON object per line")
    .option("--config <file>", "topology file (default: the local stack in --data-dir)")
    .option("--data-dir <dir>", "the local stack's data directory", defaults.dataDir)
    .addHelpText(
      "after",
      `
The last N records over all partitions (the newest by timestamp). A record that cannot be decoded is
shown with its error and the first bytes of its value; DLQ records show why and where they failed.

Examples:
  tandem inspect --site nyc --topic calls.completed
  tandem inspect --site lon --topic nyc.users.changed --last 3
  tandem inspect --site lon --topic tandem.dlq --json | jq .headers`,
    )
    .action(async (flags: InspectFlags) => {
      const topology = topologyFor(flags.config, flags.dataDir);
      siteOf(topology, flags.site);
      const site = topology.sites.find((s) => s.id === flags.site)!;
      const logger = createLogger("tandem-inspect");
      const inspection = await inspectTopic({
        kafka: createKafka(site.kafka, `tandem-inspect-${site.id}`, logger),
        codec: new EventCodec({
          host: site.registry.url,
          auth: registryAuthOf(site.registry),
          clientId: `tandem-inspect-${site.id}`,
        }),
        site: site.id,
        topic: flags.topic,
        last: flags.last,
      });
      if (flags.json) {
        for (const record of inspection.records) console.log(JSON.stringify(record));
        return;
      }
      const { records, retained, partitions } = inspection;
      const shown =
        records.length === 0 ? "no records" : `the last ${records.length} of ${retained} record(s)`;
      console.log(`${site.id} ${flags.topic}: ${shown} in ${partitions} partition(s)`);
      for (const record of records) console.log(["", ...formatRecord(record)].join("\n"));
    });
}
