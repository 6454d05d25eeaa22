import fs from "node:fs";
import path from "node:path";
import { resolveArtifacts } from "./artifacts";
import { loadOrCreateCredentials, type StackCredentials } from "./credentials";
import type { SiteEndpoints, StackEndpoints } from "./endpoints";
import { findJava } from "./java";
import {
  PORTS_PER_SITE,
  SERVER_KINDS,
  bucketName,
  cacheDir,
  sitePorts,
  validateSites,
  type ServerKind,
  type StackLayout,
} from "./layout";
import { isPortOpen, killProcess, runningPid, stopProcess } from "./processes";
import type { LocalServer, Runtime, SiteContext } from "./servers/context";
import { kafkaServer } from "./servers/kafka";
import { postgresConnectionString, postgresServer } from "./servers/postgres";
import { registryServer, registryUrl } from "./servers/registry";
import { s3proxyServer } from "./servers/s3proxy";

export const DEFAULT_BASE_PORT = 29000;
export const DEFAULT_SITES = ["nyc", "lon"];
const READY_TIMEOUT_MS = 180_000;

export interface StackOptions {
  dataDir: string;
  /** Sites and base port for `up`; when omitted, those of the stack already in the data directory. */
  sites?: string[];
  basePort?: number;
  progress?: (message: string) => void;
}

export interface ServerStatus {
  site: string;
  kind: ServerKind;
  port: number;
  pid: number | undefined;
  answering: boolean;
}

function ephemeralPortRange(): [number, number] | undefined {
  try {
    const [low, high] = fs
      .readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    return low !== undefined && high !== undefined ? [low, high] : undefined;
  } catch {
    return undefined;
  }
}

const layoutFile = (dataDir: string) => path.join(dataDir, "stack.json");

function readLayout(dataDir: string): StackLayout | undefined {
  try {
    return JSON.parse(fs.readFileSync(layoutFile(dataDir), "utf8")) as StackLayout;
  } catch {
    return undefined;
  }
}

function serverFor(kind: ServerKind, ctx: SiteContext): LocalServer {
  switch (kind) {
    case "postgres":
      return postgresServer(ctx);
    case "kafka":
      return kafkaServer(ctx);
    case "s3":
      return s3proxyServer(ctx);
    case "registry":
      return registryServer(ctx);
  }
}

function siteEndpoints(
  site: string,
  index: number,
  basePort: number,
  credentials: StackCredentials,
): SiteEndpoints {
  const ports = sitePorts(basePort, index);
  return {
    site,
    kafka: { brokers: [`127.0.0.1:${ports.kafka}`] },
    registry: { url: registryUrl(ports.registry) },
    postgres: {
      connectionString: postgresConnectionString({ ports, credentials }, "tandem"),
      database: "tandem",
    },
    objectStore: {
      kind: "s3",
      endpoint: `http://127.0.0.1:${ports.s3}`,
      region: "us-east-1",
      bucket: bucketName(site),
      accessKeyId: credentials.s3.accessKeyId,
      secretAccessKey: credentials.s3.secretAccessKey,
      forcePathStyle: true,
    },
  };
}

/** N sites of real servers (Kafka, Apicurio Registry, PostgreSQL, S3Proxy) as local processes. */
export class LocalStack {
  readonly layout: StackLayout;
  private readonly credentials: StackCredentials;
  private readonly progress: (message: string) => void;

  constructor(options: StackOptions) {
    const dataDir = path.resolve(options.dataDir);
    const existing = readLayout(dataDir);
    this.layout = {
      dataDir,
      sites: validateSites(options.sites ?? existing?.sites ?? DEFAULT_SITES),
      basePort: options.basePort ?? existing?.basePort ?? DEFAULT_BASE_PORT,
    };
    this.credentials = loadOrCreateCredentials(dataDir);
    this.progress = options.progress ?? (() => {});
  }

  endpoints(): StackEndpoints {
    const { sites, basePort } = this.layout;
    return { sites: sites.map((site, index) => siteEndpoints(site, index, basePort, this.credentials)) };
  }

  /** Starts whatever is not running and waits until every server answers; safe to repeat. */
  async up(): Promise<StackEndpoints> {
    this.refuseLayoutChangeWhileRunning();
    this.warnOnEphemeralPorts();
    fs.writeFileSync(layoutFile(this.layout.dataDir), JSON.stringify({ ...this.layout }, null, 2));
    const contexts = this.layout.sites.map((site) => this.siteContext(site));
    await Promise.all(contexts.map((ctx) => this.checkPortsFree(ctx)));
    const runtime = this.runtime();
    await Promise.all(contexts.map((ctx) => this.upSite(ctx, runtime)));
    return this.endpoints();
  }

  async down(): Promise<number> {
    let stopped = 0;
    for (const site of [...this.layout.sites].reverse()) {
      // The registry stores its schemas in PostgreSQL, so PostgreSQL stops last.
      for (const kind of ["registry", "s3", "kafka", "postgres"] as const) {
        if (await stopProcess(this.server(site, kind).proc)) {
          stopped++;
          this.progress(`stopped ${site} ${kind}`);
        }
      }
    }
    return stopped;
  }

  async status(): Promise<ServerStatus[]> {
    const rows: ServerStatus[] = [];
    for (const site of this.layout.sites) {
      for (const kind of SERVER_KINDS) {
        const server = this.server(site, kind);
        const pid = runningPid(server.proc);
        rows.push({ site, kind, port: server.port, pid, answering: await isPortOpen(server.port) });
      }
    }
    return rows;
  }

  /** Stops one server gracefully, for fault-injection tests and operators. */
  async stopServer(site: string, kind: ServerKind): Promise<void> {
    await stopProcess(this.server(site, kind).proc);
  }

  /** SIGKILLs one server, as a crash would. */
  killServer(site: string, kind: ServerKind): boolean {
    return killProcess(this.server(site, kind).proc);
  }

  /** Starts one stopped server again and waits until it answers. */
  async startServer(site: string, kind: ServerKind): Promise<void> {
    const server = this.server(site, kind);
    if (runningPid(server.proc) === undefined) await server.start(this.runtime());
    await server.waitReady(READY_TIMEOUT_MS);
  }

  private siteContext(site: string): SiteContext {
    const index = this.layout.sites.indexOf(site);
    if (index < 0) throw new Error(`unknown site "${site}": the stack has ${this.layout.sites.join(", ")}`);
    const { dataDir, basePort } = this.layout;
    return { dataDir, site, ports: sitePorts(basePort, index), credentials: this.credentials };
  }

  private server(site: string, kind: ServerKind): LocalServer {
    return serverFor(kind, this.siteContext(site));
  }

  private runtime(): Runtime {
    return { java: findJava(), artifacts: resolveArtifacts(cacheDir(this.layout.dataDir), this.progress) };
  }

  private refuseLayoutChangeWhileRunning(): void {
    const existing = readLayout(this.layout.dataDir);
    if (!existing) return;
    const same =
      existing.basePort === this.layout.basePort && existing.sites.join(",") === this.layout.sites.join(",");
    if (same) return;
    const previous = new LocalStack({
      dataDir: this.layout.dataDir,
      sites: existing.sites,
      basePort: existing.basePort,
    });
    const anyRunning = existing.sites.some((site) =>
      SERVER_KINDS.some((kind) => runningPid(previous.server(site, kind).proc) !== undefined),
    );
    if (anyRunning) {
      throw new Error(
        `a stack with sites ${existing.sites.join(",")} on base port ${existing.basePort} is running in ` +
          `${this.layout.dataDir}: run 'stack down' first or use another --data-dir`,
      );
    }
  }

  /**
   * A server port inside the kernel's ephemeral range can be taken, while its server is stopped, by a
   * client connecting to itself on that very port: restarting the server then fails.
   */
  private warnOnEphemeralPorts(): void {
    const range = ephemeralPortRange();
    if (range === undefined) return;
    const last = this.layout.basePort + this.layout.sites.length * PORTS_PER_SITE - 1;
    if (last >= range[0] && this.layout.basePort <= range[1]) {
      this.progress(
        `warning: ports ${this.layout.basePort}-${last} overlap the ephemeral port range ${range[0]}-${range[1]}; ` +
          `a stopped server may not be able to restart: prefer a --base-port below ${range[0] - last + this.layout.basePort}`,
      );
    }
  }

  private async checkPortsFree(ctx: SiteContext): Promise<void> {
    for (const kind of SERVER_KINDS) {
      const server = serverFor(kind, ctx);
      if (runningPid(server.proc) !== undefined) continue;
      const ports = kind === "kafka" ? [ctx.ports.kafka, ctx.ports.kafkaController] : [server.port];
      for (const port of ports) {
        if (await isPortOpen(port)) {
          throw new Error(
            `port ${port} (${ctx.site} ${kind}) is already in use by another process: stop it or choose ` +
              `another --base-port`,
          );
        }
      }
    }
  }

  private async upSite(ctx: SiteContext, runtime: Runtime): Promise<void> {
    const startAndWait = async (kind: ServerKind) => {
      const server = serverFor(kind, ctx);
      if (runningPid(server.proc) === undefined) {
        this.progress(`starting ${ctx.site} ${kind} on port ${server.port}`);
        await server.start(runtime);
      }
      await server.waitReady(READY_TIMEOUT_MS);
      this.progress(`${ctx.site} ${kind} ready on port ${server.port}`);
    };
    await startAndWait("postgres");
    await Promise.all((["kafka", "s3", "registry"] as const).map(startAndWait));
  }
}
