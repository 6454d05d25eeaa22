import { Command, InvalidArgumentError } from "commander";
import { LocalStack, credentialsFile, type StackEndpoints } from "@tandem/stack";
import { defaults } from "../defaults";

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
}

const progress = (message: string) => process.stderr.write(`${message}\n`);

function openStack(flags: StackFlags): LocalStack {
  return new LocalStack({
    dataDir: flags.dataDir,
    sites: flags.sites,
    basePort: flags.basePort,
    secure: flags.secure,
    progress,
  });
}

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
    .action(async (flags: { sites?: string[]; basePort?: number; secure?: boolean }) => {
      const started = Date.now();
      const local = openStack({ dataDir: stack.opts().dataDir, ...flags });
      const endpoints = await local.up();
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const mode = local.layout.secure ? " (Kafka over TLS with SASL/SCRAM)" : "";
      console.log(`stack up: ${endpoints.sites.map((s) => s.site).join(", ")} ready in ${seconds}s${mode}`);
    });

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
        console.log("SITE      SERVER    PORT   PID      STATE");
        for (const row of rows) {
          const state = row.pid !== undefined && row.answering ? "up" : row.answering ? "foreign" : "down";
          console.log(
            `${row.site.padEnd(9)} ${row.kind.padEnd(9)} ${String(row.port).padEnd(6)} ${String(row.pid ?? "-").padEnd(8)} ${state}`,
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

  return stack;
}
