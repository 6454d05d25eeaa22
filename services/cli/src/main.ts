import { Command, CommanderError } from "commander";
import { stackCommand } from "./commands/stack";

const program = new Command("tandem")
  .description("Tandem: multi-master replication of call recordings across datacenters, on Apache Kafka")
  .exitOverride()
  .configureOutput({ outputError: (message, write) => write(message) })
  .addCommand(stackCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Bad flags and usage errors: commander already printed one line.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    console.error(`tandem: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
