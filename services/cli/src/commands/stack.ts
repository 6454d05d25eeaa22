import { Command, InvalidArgumentError, Option } from "commander";
import {
  LocalStack,
  WanSpecError,
  CUT_MODES,
  credentialsFile,
  formatBandwidth,
  formatProfile,
  parseWanProfile,
  profileOf,
  selectDirections,
  wanLayoutOf,
  type CutMode,
  type StackEndpoints,
  type WanLayout,
} from "@tandem/stack";
import { defaults } from "../defaults";
import { UsageError } from "../errors";

/** A comma-separated list, blanks dropped. */
export function parseList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1024 || port > 65000) {
    throw new InvalidArgumentError("expected a port number between 1024 and 65000");
  }
  return port;
}

interface StackFlags {
  dataDir: string;
  sites?: string[];
  basePort?: number;
  secure?: boolean;
  wan?: WanLayout | null;
}

const progress = (message: string) => process.stderr.write(`${message}\n`);

function openStack(flags: StackFlags): LocalStack {
  return new LocalStack({
    dataDir: flags.dataDir,
    sites: flags.sites,
    basePort: flags.basePort,
    secure: flags.secure,
    wan: flags.wan,
    progress,
  });
}

/** WAN syntax errors are usage errors: one line, exit 2. */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof WanSpecError) throw new UsageError(error.message);
    throw error;
  }
}

/** `--wan [profile]` and `--wan-pair`: the layout; null for `--no-wan`; undefined keeps the stack's. */
function wanOf(
  flags: { wan?: string | boolean; wanPair?: string[]; sites?: string[] },
  dataDir: string,
): WanLayout | null | undefined {
  if (flags.wan === false) {
    if (flags.wanPair !== undefined) throw new UsageError("--wan-pair needs --wan, not --no-wan");
    return null;
  }
  if (flags.wan === undefined) {
    if (flags.wanPair !== undefined) throw new UsageError("--wan-pair needs --wan");
    return undefined;
  }
  const sites = flags.sites ?? openStack({ dataDir }).layout.sites;
  const profile = flags.wan === true ? undefined : flags.wan;
  return usage(() => wanLayoutOf(profile, flags.wanPair ?? [], sites));
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Shell exports for each site; secrets only when asked for, so that a pasted log does not leak them. */
export function envLines(endpoints: StackEndpoints, showSecrets: boolean, dataDir: string): string[] {
  const lines = [`export TANDEM_SITES=${endpoints.sites.map((s) => s.site).join(",")}`];
  for (const site of endpoints.sites) {
    const prefix = `TANDEM_${site.site.toUpperCase().replaceAll("-", "_")}`;
    const pgUrl = showSecrets
      ? site.postgres.connectionString
      : site.postgres.connectionString.replace(/:[^:@/]+@/, ":***@");
    lines.push(
      `export ${prefix}_KAFKA_BROKERS=${site.kafka.brokers.join(",")}`,
      ...(site.kafka.ssl ? [`export ${prefix}_KAFKA_CA=${site.kafka.ssl.ca}`] : []),
      ...(site.kafka.sasl
        ? [
            `export ${prefix}_KAFKA_SASL_MECHANISM=${site.kafka.sasl.mechanism}`,
            `export ${prefix}_KAFKA_SASL_USERNAME=${site.kafka.sasl.username}`,
          ]
        : []),
      `export ${prefix}_REGISTRY_URL=${site.registry.url}`,
      `export ${prefix}_POSTGRES_URL='${pgUrl}'`,
      `export ${prefix}_S3_ENDPOINT=${site.objectStore.endpoint}`,
      `export ${prefix}_S3_BUCKET=${site.objectStore.bucket}`,
    );
    for (const [from, via] of Object.entries(site.reachedFrom ?? {})) {
      // What `from`'s services use to reach this site: the WAN proxies of that direction.
      const fromPrefix = `${prefix}_FROM_${from.toUpperCase().replaceAll("-", "_")}`;
      lines.push(
        `export ${fromPrefix}_KAFKA_BROKERS=${via.kafka.brokers.join(",")}`,
        `export ${fromPrefix}_REGISTRY_URL=${via.registry.url}`,
        `export ${fromPrefix}_S3_ENDPOINT=${via.objectStore.endpoint}`,
      );
    }
    if (showSecrets) {
      if (site.kafka.sasl) lines.push(`export ${prefix}_KAFKA_SASL_PASSWORD='${site.kafka.sasl.password}'`);
      lines.push(
        `export ${prefix}_S3_ACCESS_KEY_ID=${site.objectStore.accessKeyId}`,
        `export ${prefix}_S3_SECRET_ACCESS_KEY=${site.objectStore.secretAccessKey}`,
      );
    }
  }
  if (!showSecrets) lines.push(`# credentials: ${credentialsFile(dataDir)} (or pass --show-secrets)`);
  return lines;
}

export function stackCommand(): Command {
  const stack = new Command("stack")
    .description("run real Kafka, schema registry, PostgreSQL and S3 servers for N sites as local processes")
    .option("--data-dir <dir>", "state and download cache", defaults.dataDir)
    .addHelpText(
      "after",
      `
Examples:
  tandem stack up --sites nyc,lon      start two sites and wait until every server answers
  tandem stack up --secure             Kafka over TLS (a CA made for the data dir) with SASL/SCRAM
  tandem stack up --wan                Toxiproxy between the sites: rtt=80ms,jitter=5ms,bandwidth=100mbit
  tandem stack up --sites nyc,lon,sfo --wan rtt=80ms --wan-pair nyc-sfo:rtt=150ms,bandwidth=20mbit
  tandem stack wan cut nyc-lon         cut both directions between nyc and lon (see stack wan --help)
  tandem stack status                  one line per server: pid, port, answering
  tandem stack env --json              endpoints for other tools
  tandem stack down                    stop exactly the processes the stack started`,
    );

  stack
    .command("up")
    .description("start every server that is not running and wait until all answer (idempotent)")
    .option("--sites <ids>", `comma-separated site ids (default ${defaults.sites.join(",")})`, parseList)
    .option("--base-port <port>", `first port; each site takes ten (default ${defaults.basePort})`, parsePort)
    .option(
      "--secure",
      "Kafka clients must use TLS (CA generated in the data dir) and SASL/SCRAM; kept for later runs",
    )
    .option("--no-secure", "plain Kafka listeners (the default for a new stack)")
    .option(
      "--wan [profile]",
      "Toxiproxy between the sites (built with go install); profile default rtt=80ms,jitter=5ms,bandwidth=100mbit",
    )
    .option(
      "--wan-pair <pair:profile>",
      "profile of both directions of a pair, e.g. nyc-sfo:rtt=150ms",
      collect,
    )
    .option("--no-wan", "no proxies between the sites (the default for a new stack)")
    .action(
      async (flags: {
        sites?: string[];
        basePort?: number;
        secure?: boolean;
        wan?: string | boolean;
        wanPair?: string[];
      }) => {
        const started = Date.now();
        const dataDir = stack.opts().dataDir;
        const wan = wanOf(flags, dataDir);
        const local = openStack({
          dataDir,
          sites: flags.sites,
          basePort: flags.basePort,
          secure: flags.secure,
          wan,
        });
        const endpoints = await local.up();
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        const mode = local.layout.secure ? " (Kafka over TLS with SASL/SCRAM)" : "";
        const wanNote = local.layout.wan ? ` over a WAN (${formatProfile(local.layout.wan.profile)})` : "";
        console.log(
          `stack up: ${endpoints.sites.map((s) => s.site).join(", ")} ready in ${seconds}s${mode}${wanNote}`,
        );
      },
    );

  stack
    .command("down")
    .description("stop the servers this stack started (by pid)")
    .action(async () => {
      const stopped = await openStack({ dataDir: stack.opts().dataDir }).down();
      console.log(`stack down: ${stopped} server(s) stopped`);
    });

  stack
    .command("status")
    .description("state of every server; exit 1 when one is not answering")
    .option("--json", "machine-readable output")
    .action(async (flags: { json?: boolean }) => {
      const rows = await openStack({ dataDir: stack.opts().dataDir }).status();
      if (flags.json) console.log(JSON.stringify(rows, null, 2));
      else {
        console.log("SITE      SERVER     PORT   PID      STATE");
        for (const row of rows) {
          const state = row.pid !== undefined && row.answering ? "up" : row.answering ? "foreign" : "down";
          console.log(
            `${row.site.padEnd(9)} ${row.kind.padEnd(10)} ${String(row.port).padEnd(6)} ${String(row.pid ?? "-").padEnd(8)} ${state}`,
          );
        }
      }
      if (rows.some((r) => r.pid === undefined || !r.answering)) process.exitCode = 1;
    });

  stack
    .command("env")
    .description("print the endpoints of every site as shell exports (or JSON)")
    .option("--json", "JSON instead of shell exports")
    .option("--show-secrets", "include passwords and keys")
    .action((flags: { json?: boolean; showSecrets?: boolean }) => {
      const dataDir = stack.opts().dataDir;
      const endpoints = openStack({ dataDir }).endpoints();
      if (flags.json) {
        const shown = flags.showSecrets
          ? endpoints
          : JSON.parse(JSON.stringify(endpoints), (key: string, value: unknown) =>
              key === "secretAccessKey" || key === "accessKeyId" || key === "password"
                ? "***"
                : key === "connectionString"
                  ? String(value).replace(/:[^:@/]+@/, ":***@")
                  : value,
            );
        console.log(JSON.stringify(shown, null, 2));
      } else console.log(envLines(endpoints, flags.showSecrets ?? false, dataDir).join("\n"));
    });

  stack.addCommand(wanCommand(() => openStack({ dataDir: stack.opts().dataDir })));
  return stack;
}

/** Runtime control of a WAN stack's proxies through Toxiproxy's HTTP API. */
function wanCommand(open: () => LocalStack): Command {
  const wan = new Command("wan")
    .description("change the WAN between the sites at run time: latency, bandwidth, cuts")
    .addHelpText(
      "after",
      `
A pair is <site>-<site>: both directions (the services of each site reaching the other's Kafka, registry
and S3) unless --one-way, which takes only the direction from the first site's services to the second's
servers. 'all' is every pair.

Examples:
  tandem stack wan show
  tandem stack wan set all rtt=150ms,bandwidth=20mbit
  tandem stack wan cut nyc-lon --mode blackhole
  tandem stack wan cut nyc-lon --one-way
  tandem stack wan heal all`,
    );

  const directionsOf = (local: LocalStack, target: string, oneWay?: boolean) =>
    usage(() => selectDirections(target, local.layout.sites, { oneWay }));

  wan
    .command("show")
    .description("each direction's state, latency and bandwidth")
    .option("--json", "machine-readable output")
    .action(async (flags: { json?: boolean }) => {
      const local = open();
      const states = await local.wanControl().show(directionsOf(local, "all"));
      if (flags.json) {
        console.log(JSON.stringify(states, null, 2));
        return;
      }
      console.log("DIRECTION          KAFKA      REGISTRY   S3         RTT     JITTER  BANDWIDTH");
      for (const state of states) {
        const { from, to } = state.direction;
        const cell = (value: string | undefined) => (value ?? "missing").padEnd(10);
        const ms = (value: number | undefined) => (value === undefined ? "-" : `${value}ms`).padEnd(7);
        const bandwidth = state.bandwidthKbit === undefined ? "-" : formatBandwidth(state.bandwidthKbit);
        console.log(
          `${`${from}->${to}`.padEnd(18)} ${cell(state.services.kafka)} ${cell(state.services.registry)} ` +
            `${cell(state.services.s3)} ${ms(state.rttMs)} ${ms(state.jitterMs)} ${bandwidth}`,
        );
      }
    });

  wan
    .command("set")
    .description(
      "change the latency and bandwidth of a pair (or all); keys left out keep the stack's profile",
    )
    .argument("<pair>", "<site>-<site> or all")
    .argument("<profile>", "e.g. rtt=150ms,jitter=10ms,bandwidth=20mbit")
    .option("--one-way", "only the direction from the first site to the second")
    .action(async (target: string, profileText: string, flags: { oneWay?: boolean }) => {
      const local = open();
      const control = local.wanControl();
      const directions = directionsOf(local, target, flags.oneWay);
      const layout = local.layout.wan!;
      for (const direction of directions) {
        const profile = usage(() => parseWanProfile(profileText, profileOf(layout, direction)));
        await control.setProfile([direction], profile);
        console.log(`wan set ${direction.from}->${direction.to}: ${formatProfile(profile)}`);
      }
    });

  wan
    .command("cut")
    .description("cut a pair: its proxies refuse connections (refuse) or swallow all data (blackhole)")
    .argument("<pair>", "<site>-<site> or all")
    .addOption(new Option("--mode <mode>", "how the link fails").choices(CUT_MODES).default("refuse"))
    .option("--one-way", "only the direction from the first site to the second")
    .action(async (target: string, flags: { mode: CutMode; oneWay?: boolean }) => {
      const local = open();
      const directions = directionsOf(local, target, flags.oneWay);
      await local.wanControl().cut(directions, flags.mode);
      console.log(`wan cut (${flags.mode}): ${directions.map((d) => `${d.from}->${d.to}`).join(", ")}`);
    });

  wan
    .command("heal")
    .description("end the cuts of a pair (or all); the latency and bandwidth stay")
    .argument("<pair>", "<site>-<site> or all")
    .option("--one-way", "only the direction from the first site to the second")
    .action(async (target: string, flags: { oneWay?: boolean }) => {
      const local = open();
      const directions = directionsOf(local, target, flags.oneWay);
      await local.wanControl().heal(directions);
      console.log(`wan healed: ${directions.map((d) => `${d.from}->${d.to}`).join(", ")}`);
    });

  return wan;
}
