import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { defaults } from "../defaults";
import { runDemo } from "../demo/demo";
import { formatReport } from "./verify";
import { parsePort, parseList } from "./stack";
import { parseListen, type ListenAddress } from "@tandem/console";
import { listenAddress } from "./console";

function positive(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError("expected a positive number");
  return number;
}

interface DemoFlags {
  dataDir: string;
  sites: string[];
  three?: boolean;
  basePort?: number;
  duration: number;
  callsPerSecond: number;
  userChangesPerSecond: number;
  maxCallSeconds: number;
  settleTimeout: number;
  seed?: number;
  console: ListenAddress;
}

export function demoCommand(): Command {
  return new Command("demo")
    .description("run Tandem's main job on a local multi-site stack and verify that the sites converge")
    .option("--data-dir <dir>", "state and download cache of the local stack", defaults.dataDir)
    .option("--sites <ids>", "comma-separated site ids", parseList, defaults.demo.sites)
    .option("--three", "three sites (nyc, lon, sfo) in a full mesh")
    .option("--base-port <port>", "first port of the local stack", parsePort)
    .option("--duration <seconds>", "how long the recorders record", positive, defaults.demo.durationSeconds)
    .option(
      "--calls-per-second <n>",
      "calls completed per second at each site",
      positive,
      defaults.demo.callsPerSecond,
    )
    .option(
      "--user-changes-per-second <n>",
      "user edits per second at each site",
      positive,
      defaults.demo.userChangesPerSecond,
    )
    .option(
      "--max-call-seconds <n>",
      "longest call (and audio) recorded",
      positive,
      defaults.demo.maxCallSeconds,
    )
    .option(
      "--settle-timeout <seconds>",
      "how long to wait for convergence at the end",
      positive,
      defaults.demo.settleTimeoutSeconds,
    )
    .option(
      "--console <host:port>",
      "where the operator's console listens while the demo runs",
      listenAddress,
      parseListen(defaults.console.listen),
    )
    .option("--seed <n>", "seed of the recorders (same seed, same calls; default: the clock)", positive)
    .addHelpText(
      "after",
      `
Ctrl-C stops the recorders early; the sites are still given time to converge and are verified.
The local stack keeps running afterwards: './tandem stack down' stops it.

Examples:
  tandem demo
  tandem demo --three --duration 120
  tandem demo --calls-per-second 10 --max-call-seconds 10`,
    )
    .action(async (flags: DemoFlags) => {
      const sites = flags.three ? ["nyc", "lon", "sfo"] : flags.sites;
      const interrupted = new AbortController();
      const onSignal = () => {
        process.stdout.write("\nstopping the recorders, then verifying (Ctrl-C again to quit at once)\n");
        interrupted.abort();
        process.once("SIGINT", () => process.exit(130));
      };
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      const report = await runDemo(
        {
          dataDir: flags.dataDir,
          sites,
          basePort: flags.basePort,
          durationSeconds: flags.duration,
          callsPerSecond: flags.callsPerSecond,
          userChangesPerSecond: flags.userChangesPerSecond,
          maxCallSeconds: flags.maxCallSeconds,
          settleTimeoutSeconds: flags.settleTimeout,
          seed: flags.seed ?? Date.now(),
          logFile: path.join(flags.dataDir, "demo.log"),
          consoleListen: flags.console,
          out: process.stdout,
        },
        interrupted.signal,
      );
      console.log(formatReport(report).join("\n"));
      // The demo's services are stopped by now; a client still retrying inside one of them (a producer
      // rejected by a broker, seen once) must not keep a finished demo from exiting.
      process.exit(report.consistent ? 0 : 1);
    });
}
