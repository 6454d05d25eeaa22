import { setTimeout as sleep } from "node:timers/promises";
import { Command, Option } from "commander";
import { loadTopology, topologySeenFrom, type Topology } from "@tandem/config";
import { createLogger, onShutdown, type Logger } from "@tandem/runtime";
import { UsageError } from "../errors";
import { parsePort } from "./stack";

export const ROLES = ["bridge", "materializer", "all"] as const;
export type Role = (typeof ROLES)[number];

interface RunFlags {
  config: string;
  site: string;
  role: Role;
  bridgeOpsPort?: number;
  materializerOpsPort?: number;
  instance?: string;
}

export function siteOf(topology: Topology, site: string): void {
  if (!topology.sites.some((s) => s.id === site)) {
    throw new UsageError(
      `site "${site}" is not in the topology (sites: ${topology.sites.map((s) => s.id).join(", ")})`,
    );
  }
}

/** The long-running services of one site; the bridge pulls the links that end at the site. */
export async function runSite(flags: RunFlags): Promise<void> {
  const declared = loadTopology(flags.config);
  siteOf(declared, flags.site);
  // This process is at its site: it reaches every other site where that site says it is reached from here.
  const topology = topologySeenFrom(declared, flags.site);
  const logger = createLogger(`tandem-${flags.site}`);
  const stops: Array<() => Promise<void>> = [];
  const starting = startServices(topology, flags, logger, stops);
  // Registered before anything starts: a SIGTERM during start-up waits for it, then stops cleanly.
  onShutdown(logger, async () => {
    // Start-up waits for peers that are down; a stop does not wait for them long.
    await Promise.race([starting.catch(() => {}), sleep(5000)]);
    await Promise.all(stops.map((stop) => stop()));
  });
  await starting;
}

async function startServices(
  topology: Topology,
  flags: RunFlags,
  logger: Logger,
  stops: Array<() => Promise<void>>,
): Promise<void> {
  if (flags.role === "bridge" || flags.role === "all") {
    const incoming = topology.links.filter((link) => link.to === flags.site);
    if (incoming.length > 0) {
      // Each service's modules are loaded only where it runs: a bridge process holds none of the materializer's.
      const { runBridge } = await import("@tandem/bridge");
      const bridge = await runBridge({
        topology,
        selectLinks: (link) => link.to === flags.site,
        logger,
        opsPort: flags.bridgeOpsPort,
        instanceId: flags.instance,
      });
      stops.push(bridge.stop);
    } else logger.warn({ site: flags.site }, "no link ends at this site: no bridge to run");
  }
  if (flags.role === "materializer" || flags.role === "all") {
    // A fresh group re-reads every topic from the start: how a new database is rebuilt from the log.
    const groupId = process.env.TANDEM_MATERIALIZER_GROUP;
    const { runMaterializer } = await import("@tandem/materializer");
    const materializer = await runMaterializer({
      topology,
      siteId: flags.site,
      logger,
      metricsPort: flags.materializerOpsPort,
      options: { consumer: groupId ? { groupId } : {} },
    });
    stops.push(() => materializer.stop());
  }
}

export function runCommand(): Command {
  return new Command("run")
    .description("run one site's long-running services (bridge, materializer) against real endpoints")
    .requiredOption("--config <file>", "topology file (YAML); secrets as ${ENV_VAR} references")
    .requiredOption("--site <id>", "the site this process serves")
    .addOption(new Option("--role <role>", "which services to run").choices(ROLES).default("all"))
    .option(
      "--bridge-ops-port <port>",
      "port of the bridge's /metrics, /healthz and catch-up endpoint",
      parsePort,
    )
    .option("--materializer-ops-port <port>", "port of the materializer's /metrics and /healthz", parsePort)
    .option("--instance <id>", "distinguishes several instances of the same site (default: host name)")
    .addHelpText(
      "after",
      `
The bridge of a site pulls every link that ends at it (remote consume, local produce).
Stop with SIGTERM or Ctrl-C: the batch in flight is finished and committed first.
TANDEM_MATERIALIZER_GROUP overrides the materializer's consumer group (default tandem-materializer.<site>).

Examples:
  tandem run --config topology.yaml --site lon
  tandem run --config topology.yaml --site lon --role bridge --bridge-ops-port 9401`,
    )
    .action(async (flags: RunFlags) => runSite(flags));
}
