import { Command } from "commander";
import type { SiteConfig, Topology } from "@tandem/config";
import { REGISTER_NAMES, createPool, listConflicts } from "@tandem/materializer";
import { publishResolution, type ResolutionChoice } from "@tandem/operations";
import { defaults } from "../defaults";
import { UsageError } from "../errors";
import { topologyFor } from "./verify";

interface CommonFlags {
  config?: string;
  dataDir: string;
  site: string;
}

function siteOf(topology: Topology, id: string): SiteConfig {
  const site = topology.sites.find((s) => s.id === id);
  if (site === undefined) throw new UsageError(`site "${id}" is not in the topology`);
  return site;
}

function describeSibling(sibling: unknown): string {
  const s = sibling as { value: unknown; originSite: string; hlc: { wallTimeMs: number }; eventId: string };
  return `${JSON.stringify(s.value)} from ${s.originSite} at ${new Date(s.hlc.wallTimeMs).toISOString()} (event ${s.eventId})`;
}

export function conflictsCommand(): Command {
  const conflicts = new Command("conflicts")
    .description("the administrator's queue of concurrent user edits (manual merge policy)")
    .addHelpText(
      "after",
      `
Examples:
  tandem conflicts list --site lon
  tandem conflicts show --site lon --user 6c1d...
  tandem conflicts resolve --site lon --user 6c1d... --field email --value '"ada@example.com"'`,
    );
  const common = (command: Command) =>
    command
      .option("--config <file>", "topology file (default: the local stack in --data-dir)")
      .option("--data-dir <dir>", "the local stack's data directory", defaults.dataDir)
      .requiredOption("--site <id>", "the site whose database to read");

  common(conflicts.command("list"))
    .description("open conflicts (and, with --all, those resolved by policy)")
    .option("--all", "include conflicts the policy resolved")
    .option("--json", "machine-readable output")
    .action(async (flags: CommonFlags & { all?: boolean; json?: boolean }) => {
      const pool = createPool(siteOf(topologyFor(flags.config, flags.dataDir), flags.site).postgres, 2);
      try {
        const rows = await listConflicts(pool, { includeResolved: flags.all ?? false });
        if (flags.json) console.log(JSON.stringify(rows, null, 2));
        else {
          if (rows.length === 0) console.log("no conflict");
          for (const row of rows) {
            console.log(
              `${row.userId}  ${row.field.padEnd(10)} ${row.status.padEnd(18)} ${row.siblings.length} sides`,
            );
          }
        }
      } finally {
        await pool.end();
      }
    });

  common(conflicts.command("show"))
    .description("both (or all) sides of a user's conflicts")
    .requiredOption("--user <uuid>", "the user")
    .action(async (flags: CommonFlags & { user: string }) => {
      const pool = createPool(siteOf(topologyFor(flags.config, flags.dataDir), flags.site).postgres, 2);
      try {
        const rows = (await listConflicts(pool, { includeResolved: true })).filter(
          (r) => r.userId === flags.user,
        );
        if (rows.length === 0) throw new UsageError(`user ${flags.user} has no conflict at ${flags.site}`);
        for (const row of rows) {
          console.log(`${row.field} (${row.status}), shown: ${describeSibling(row.winner)}`);
          for (const sibling of row.siblings) console.log(`  - ${describeSibling(sibling)}`);
        }
      } finally {
        await pool.end();
      }
    });

  common(conflicts.command("resolve"))
    .description("decide a conflict: publishes an edit that supersedes every side, at every site")
    .requiredOption("--user <uuid>", "the user")
    .requiredOption("--field <name>", `one of ${REGISTER_NAMES.join(", ")}`)
    .requiredOption("--value <json>", "the value to keep, as JSON (e.g. '\"Ada\"', 'true', '[\"201\"]')")
    .action(async (flags: CommonFlags & { user: string; field: string; value: string }) => {
      if (!(REGISTER_NAMES as readonly string[]).includes(flags.field))
        throw new UsageError(`--field: unknown field "${flags.field}"`);
      let value: unknown;
      try {
        value = JSON.parse(flags.value);
      } catch {
        throw new UsageError(`--value: not JSON: ${flags.value}`);
      }
      const site = siteOf(topologyFor(flags.config, flags.dataDir), flags.site);
      const event = await publishResolution(site, flags.user, {
        field: flags.field,
        value,
      } as ResolutionChoice);
      console.log(
        `published resolution ${event.eventId}: ${flags.field} = ${flags.value}; every site clears the conflict when it applies it`,
      );
    });
  return conflicts;
}
