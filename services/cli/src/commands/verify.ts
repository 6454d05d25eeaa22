import { Command } from "commander";
import { loadTopology, type Topology } from "@tandem/config";
import { LocalStack } from "@tandem/stack";
import { defaults } from "../defaults";
import { UsageError } from "../errors";
import { localTopology, meshLinks } from "../local-topology";
import { verifySites, type VerifyReport } from "@tandem/operations";
import { parseList } from "./stack";

export function formatReport(report: VerifyReport): string[] {
  const lines = [
    `verify ${report.sites.join(", ")}: ${report.consistent ? "consistent" : "NOT consistent"}`,
    ...report.sites.map(
      (site) => `  ${site.padEnd(8)} calls ${report.calls[site]}  users ${report.users[site]}`,
    ),
    `  buckets read: ${report.bucketsRead} of ${report.bucketsCompared} (the others agree at every site)`,
  ];
  if (report.differences.length === 0) lines.push("  no difference");
  const shown = report.differences.slice(0, 50);
  for (const d of shown) lines.push(`  ${d.kind} ${d.id} at ${d.site}: ${d.cause} (${d.detail})`);
  if (report.differences.length > shown.length) {
    lines.push(`  ... and ${report.differences.length - shown.length} more (--json for all)`);
  }
  return lines;
}

/** The topology to audit: a file, or the local stack's sites in a mesh. */
export function topologyFor(config: string | undefined, dataDir: string): Topology {
  if (config !== undefined) return loadTopology(config);
  const endpoints = new LocalStack({ dataDir }).endpoints();
  return localTopology(endpoints, meshLinks(endpoints.sites.map((s) => s.site)));
}

export function verifyCommand(): Command {
  return new Command("verify")
    .description("anti-entropy audit: compare the sites' calls, audio checksums and users")
    .option("--config <file>", "topology file (default: the local stack in --data-dir)")
    .option("--data-dir <dir>", "the local stack's data directory", defaults.dataDir)
    .option("--sites <ids>", "comma-separated site ids (default: every site)", parseList)
    .option("--grace <seconds>", "a call first seen this recently counts as in flight", "30")
    .option("--allow-in-flight", "exit 0 when the only differences are in flight")
    .option("--tenant <uuids>", "only these tenants (comma-separated)", parseList)
    .option("--json", "machine-readable report")
    .addHelpText(
      "after",
      `
Exit code 0 only when the sites are consistent modulo the topology's filters.
Calls and users are compared by hash ranges of their UUIDs first; only differing ranges are read.

Examples:
  tandem verify
  tandem verify --config topology.yaml --sites nyc,lon,sfo --json`,
    )
    .action(
      async (flags: {
        config?: string;
        dataDir: string;
        sites?: string[];
        grace: string;
        allowInFlight?: boolean;
        tenant?: string[];
        json?: boolean;
      }) => {
        const topology = topologyFor(flags.config, flags.dataDir);
        const sites = flags.sites ?? topology.sites.map((s) => s.id);
        const unknown = sites.filter((s) => !topology.sites.some((t) => t.id === s));
        if (unknown.length > 0) throw new UsageError(`unknown site(s): ${unknown.join(", ")}`);
        const grace = Number(flags.grace);
        if (!(grace >= 0)) throw new UsageError("--grace: expected a number of seconds");
        const report = await verifySites(topology, sites, {
          inFlightGraceMs: grace * 1000,
          allowInFlight: flags.allowInFlight ?? false,
          tenants: flags.tenant,
        });
        console.log(flags.json ? JSON.stringify(report, null, 2) : formatReport(report).join("\n"));
        process.exitCode = report.consistent ? 0 : 1;
      },
    );
}
