import { Command, CommanderError } from "commander";
import { TopologyError } from "@tandem/config";
import { UsageError } from "./errors";

/**
 * Every command, in the order help lists them; each module is loaded only when its command runs (or help
 * lists them all): a long-running `tandem run` then holds none of the other commands' libraries.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => (await import("./commands/demo")).demoCommand(),
  stack: async () => (await import("./commands/stack")).stackCommand(),
  run: async () => (await import("./commands/run")).runCommand(),
  status: async () => (await import("./commands/status")).statusCommand(),
  gaps: async () => (await import("./commands/gaps")).gapsCommand(),
  replicate: async () => (await import("./commands/replicate")).replicateCommand(),
  publish: async () => (await import("./commands/publish")).publishCommand(),
  import: async () => (await import("./commands/import")).importCommand(),
  inspect: async () => (await import("./commands/inspect")).inspectCommand(),
  replay: async () => (await import("./commands/replay")).replayCommand(),
  verify: async () => (await import("./commands/verify")).verifyCommand(),
  repair: async () => (await import("./commands/repair")).repairCommand(),
  conflicts: async () => (await import("./commands/conflicts")).conflictsCommand(),
  console: async () => (await import("./commands/console")).consoleCommand(),
};

/**
 * A reader that stopped reading (`tandem inspect ... | head`) ends the command quietly with the status a
 * process killed by SIGPIPE has, as other Unix tools end, instead of a stack trace.
 */
const EXIT_BROKEN_PIPE = 128 + 13;
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(EXIT_BROKEN_PIPE);
});

const invoked = process.argv[2];
const wanted = invoked !== undefined && Object.hasOwn(COMMANDS, invoked) ? [invoked] : Object.keys(COMMANDS);
const program = new Command("tandem").description(
  "Tandem: multi-master replication of call recordings across datacenters, on Apache Kafka",
);
for (const command of await Promise.all(wanted.map((name) => COMMANDS[name]!()))) program.addCommand(command);

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
