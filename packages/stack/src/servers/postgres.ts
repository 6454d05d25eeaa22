import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { serverDir } from "../layout";
import { startDetached, waitUntil } from "../processes";
import type { LocalServer, SiteContext } from "./context";

/** Databases each site's PostgreSQL holds: Tandem's own and the schema registry's storage. */
export const SITE_DATABASES = ["tandem", "registry"] as const;

function postgresBinDir(): string {
  if (process.env.TANDEM_PG_BIN) return process.env.TANDEM_PG_BIN;
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => fs.existsSync(path.join(root, v, "bin", "postgres")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) {
    throw new Error(
      "PostgreSQL server not found under /usr/lib/postgresql: install Debian's package (apt-get install postgresql) " +
        "or set TANDEM_PG_BIN to the directory holding postgres and initdb",
    );
  }
  return path.join(root, versions[0], "bin");
}

const runningAsRoot = () => process.getuid?.() === 0;

/** PostgreSQL refuses to run as root; as root the stack runs it as the `postgres` system user. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  if (!runningAsRoot()) return [command, args];
  return ["setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", command, ...args]];
}

function serverUserCanUse(dir: string): boolean {
  if (!runningAsRoot()) return true;
  const [command, args] = asServerUser("test", ["-x", dir]);
  return spawnSync(command, args).status === 0;
}

/**
 * Where the cluster files live: under the data directory, unless that directory is not reachable by the
 * `postgres` user (a checkout under /root), in which case a directory named after the data directory is used.
 */
function clusterHome(ctx: SiteContext): string {
  const preferred = serverDir(ctx.dataDir, ctx.site, "postgres");
  fs.mkdirSync(preferred, { recursive: true });
  if (serverUserCanUse(preferred)) return path.join(preferred, "cluster");
  const hash = createHash("sha256").update(path.resolve(ctx.dataDir)).digest("hex").slice(0, 12);
  return path.join(os.tmpdir(), `tandem-pg-${hash}`, ctx.site);
}

function run(command: string, args: string[], what: string): void {
  const [cmd, argv] = asServerUser(command, args);
  const result = spawnSync(cmd, argv, { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`${what} failed (exit ${result.status}): ${`${result.stderr}${result.stdout}`.trim()}`);
  }
}

export function postgresServer(ctx: SiteContext): LocalServer {
  const dir = serverDir(ctx.dataDir, ctx.site, "postgres");
  const home = clusterHome(ctx);
  const dataPath = path.join(home, "data");
  const proc = { name: `${ctx.site} postgres`, dir, marker: dataPath, stopSignal: "SIGINT" as const };
  const port = ctx.ports.postgres;
  const { user, password } = ctx.credentials.postgres;

  function initCluster(bin: string): void {
    fs.mkdirSync(path.dirname(home), { recursive: true });
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const pwfile = path.join(home, "pwfile");
    fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (runningAsRoot()) spawnSync("chown", ["-R", "postgres:postgres", home]);
    try {
      run(
        path.join(bin, "initdb"),
        [
          "-D",
          dataPath,
          "-U",
          user,
          "--auth=scram-sha-256",
          `--pwfile=${pwfile}`,
          "-E",
          "UTF8",
          "--no-locale",
        ],
        "initdb",
      );
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
  }

  return {
    proc,
    port,
    async start() {
      const bin = postgresBinDir();
      if (!fs.existsSync(path.join(dataPath, "PG_VERSION"))) initCluster(bin);
      const [command, args] = asServerUser(path.join(bin, "postgres"), [
        "-D",
        dataPath,
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        `port=${port}`,
        "-c",
        `unix_socket_directories=${home}`,
        "-c",
        "max_connections=200",
      ]);
      startDetached(proc, command, args);
    },
    async waitReady(timeoutMs) {
      const admin = { host: "127.0.0.1", port, user, password, database: "postgres" };
      await waitUntil(
        proc,
        `accept connections on port ${port}`,
        async () => {
          const client = new pg.Client(admin);
          await client.connect();
          try {
            const existing = await client.query<{ datname: string }>("SELECT datname FROM pg_database");
            const names = new Set(existing.rows.map((r) => r.datname));
            for (const db of SITE_DATABASES) if (!names.has(db)) await client.query(`CREATE DATABASE ${db}`);
          } finally {
            await client.end();
          }
          return true;
        },
        timeoutMs,
      );
    },
  };
}

export function postgresConnectionString(
  ctx: Pick<SiteContext, "ports" | "credentials">,
  database: string,
): string {
  const { user, password } = ctx.credentials.postgres;
  return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${ctx.ports.postgres}/${database}`;
}
