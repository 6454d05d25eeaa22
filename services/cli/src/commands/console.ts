import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { ConsoleRefused, parseListen, runConsole, type ListenAddress } from "@tandem/console";
import { DEFAULT_THRESHOLDS } from "@tandem/operations";
import { defaults } from "../defaults";
import { UsageError } from "../errors";
import { topologyFor } from "./verify";

export function listenAddress(text: string): ListenAddress {
  try {
    return parseListen(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function bridgeUrl(text: string, previous: Map<string, string>): Map<string, string> {
  const match = /^([a-z][a-z0-9-]{1,30})=(https?:\/\/.+)$/.exec(text);
  if (!match) throw new InvalidArgumentError(`expected <site>=<url>, got "${text}"`);
  return new Map(previous).set(match[1]!, match[2]!);
}

function seconds(text: string): number {
  const n = Number(text);
  if (!(n > 0)) throw new InvalidArgumentError("expected a positive number of seconds");
  return n;
}

interface ConsoleFlags {
  config?: string;
  dataDir: string;
  listen: ListenAddress;
  bridgeUrl: Map<string, string>;
  interval: number;
  history: number;
  downAfter: number;
}

export function consoleCommand(): Command {
  return new Command("console")
    .description("the operator's web console: links, lag, conflicts, the DLQ and audits")
    .option("--config <file>", "topology file (default: the local stack in --data-dir)")
    .option("--data-dir <dir>", "the local stack's data directory", defaults.dataDir)
    .option(
      "--listen <host:port>",
      "address to serve on",
      listenAddress,
      parseListen(defaults.console.listen),
    )
    .option(
      "--bridge-url <site=url>",
      "operations endpoint of the bridge at a site (tandem run --bridge-ops-port), for catch-ups; repeatable",
      bridgeUrl,
      new Map<string, string>(),
    )
    .option(
      "--interval <s>",
      "how often sites and links are sampled",
      seconds,
      defaults.console.intervalSeconds,
    )
    .option(
      "--history <s>",
      "how far back the lag chart reaches (kept in memory)",
      seconds,
      defaults.console.historySeconds,
    )
    .option(
      "--down-after <s>",
      "an open link without a heartbeat for this long is 'down'",
      seconds,
      DEFAULT_THRESHOLDS.downAfterSeconds,
    )
    .addHelpText(
      "after",
      `
Logins: user admin with TANDEM_CONSOLE_ADMIN_PASSWORD, user viewer with TANDEM_CONSOLE_VIEWER_PASSWORD.
On a loopback address without TANDEM_CONSOLE_ADMIN_PASSWORD, an admin password is generated into
<data-dir>/console/admin-password (readable by its owner only). Off loopback, both are required.
Stops on SIGTERM or Ctrl-C.

Examples:
  tandem console --config topology.yaml
  tandem console --config topology.yaml --listen 0.0.0.0:9400 --bridge-url lon=http://lon-bridge:9401`,
    )
    .action(async (flags: ConsoleFlags) => {
      const topology = topologyFor(flags.config, flags.dataDir);
      const unknown = [...flags.bridgeUrl.keys()].filter(
        (site) => !topology.sites.some((s) => s.id === site),
      );
      if (unknown.length > 0) throw new UsageError(`--bridge-url: unknown site(s) ${unknown.join(", ")}`);
      let running;
      try {
        running = await runConsole({
          topology,
          listen: flags.listen,
          credentials: {
            adminPassword: process.env.TANDEM_CONSOLE_ADMIN_PASSWORD,
            viewerPassword: process.env.TANDEM_CONSOLE_VIEWER_PASSWORD,
          },
          generatedPasswordFile: path.join(flags.dataDir, "console", "admin-password"),
          bridgeUrls: flags.bridgeUrl,
          thresholds: { ...DEFAULT_THRESHOLDS, downAfterSeconds: flags.downAfter },
          intervalMs: flags.interval * 1000,
          historyMs: flags.history * 1000,
        });
      } catch (error) {
        if (error instanceof ConsoleRefused) throw new UsageError(error.message);
        throw error;
      }
      console.log(`tandem console: serving ${running.url}`);
      if (running.passwordFile !== undefined)
        console.log(`tandem console: log in as admin with the password in ${running.passwordFile}`);
      await new Promise<void>((resolve) => {
        process.once("SIGTERM", () => resolve());
        process.once("SIGINT", () => resolve());
      });
      await running.stop();
      console.log("tandem console: stopped");
      // Clients of a sample let go while it waited on an unreachable cluster would keep the process alive.
      process.exit(0);
    });
}
