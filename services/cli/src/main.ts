import { Command, CommanderError } from "commander";
import { TopologyError } from "@tandem/config";
import { UsageError } from "./errors";
import { conflictsCommand } from "./commands/conflicts";
import { consoleCommand } from "./commands/console";
import { demoCommand } from "./commands/demo";
import { gapsCommand } from "./commands/gaps";
import { importCommand } from "./commands/import";
import { inspectCommand } from "./commands/inspect";
import { publishCommand } from "./commands/publish";
import { replayCommand } from "./commands/replay";
import { repairCommand } from "./commands/repair";
import { replicateCommand } from "./commands/replicate";
import { runCommand } from "./commands/run";
import { verifyCommand } from "./commands/verify";
import { stackCommand } from "./commands/stack";
import { statusCommand } from "./commands/status";

const program = new Command("tandem")
  .description("Tandem: multi-master replication of call recordings across datacenters, on Apache Kafka")
  .addCommand(demoCommand())
  .addCommand(stackCommand())
  .addCommand(runCommand())
  .addCommand(statusCommand())
  .addCommand(gapsCommand())
  .addCommand(replicateCommand())
  .addCommand(publishCommand())
  .addCommand(importCommand())
  .addCommand(inspectCommand())
  .addCommand(replayCommand())
  .addCommand(verifyCommand())
  .addCommand(repairCommand())
  .addCommand(conflictsCommand())
  .addCommand(consoleCommand());

/** Usage errors anywhere in the command tree end in the catch below (exit 2) instead of exiting at once. */
function throwOnUsageErrors(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) throwOnUsageErrors(sub);
}
throwOnUsageErrors(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Bad flags and usage errors: commander already printed one line.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof UsageError || error instanceof TopologyError) {
    console.error(`tandem: ${error.message}`);
    process.exitCode = 2;
  } else {
    console.error(`tandem: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
