import fs from "node:fs";
import path from "node:path";
import { resolveArtifacts } from "./artifacts";
import { loadOrCreateCredentials, type StackCredentials } from "./credentials";
import type { RemoteAddresses, SiteEndpoints, StackEndpoints } from "./endpoints";
import { findJava, javaOptionsOf } from "./java";
import {
  PORTS_PER_SITE,
  SERVER_KINDS,
  bucketName,
  caCertificateFile,
  cacheDirOf,
  sitePorts,
  validateSites,
  type ServerKind,
  type SitePorts,
  type StackLayout,
} from "./layout";
import { isPortOpen, killProcess, runningPid, stopProcess } from "./processes";
import type { LocalServer, Runtime, SiteContext } from "./servers/context";
import { kafkaServer } from "./servers/kafka";
import { postgresConnectionString, postgresServer } from "./servers/postgres";
import { registryServer, registryUrl } from "./servers/registry";
import { s3proxyServer } from "./servers/s3proxy";
import { ensureToxiproxyBinary, toxiproxyBinary, toxiproxyServer } from "./servers/toxiproxy";
import { ensureCertificateAuthority, keytoolFor } from "./tls";
import {
  WAN_SERVICES,
  directionPorts,
  formatWanLayout,
  lastStackPort,
  profileOf,
  proxyName,
  wanDirections,
  wanListenerName,
  wanPorts,
  type WanDirection,
  type WanLayout,
} from "./wan";
import { WanControl, type PlannedProxy } from "./wan-control";

export const DEFAULT_BASE_PORT = 29000;
export const DEFAULT_SITES = ["nyc", "lon"];
// Generous: a JVM that is still running may take minutes to answer on a machine busy starting others.
const READY_TIMEOUT_MS = 300_000;

export interface StackOptions {
  dataDir: string;
  /** Sites and base port for `up`; when omitted, those of the stack already in the data directory. */
  sites?: string[];
  basePort?: number;
  /**
   * Kafka over TLS with SASL/SCRAM (a CA made for this data directory); when omitted, the mode of the stack
   * already in the data directory, else plain.
   */
  secure?: boolean;
  /**
   * Toxiproxy between the sites with this profile; null for none; when omitted, that of the stack already
   * in the data directory, else none.
   */
  wan?: WanLayout | null;
  /**
   * Where the servers' jars and Toxiproxy are kept, so that stacks naming the same download them once; when
   * omitted, that of the stack already in the data directory, else TANDEM_STACK_CACHE, else `<dataDir>/cache`.
   */
  cacheDir?: string;
  progress?: (message: string) => void;
}

export interface ServerStatus {
  /** `wan` for the WAN's Toxiproxy. */
  site: string;
  kind: ServerKind | "toxiproxy";
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

const modeName = (secure: boolean | undefined) => (secure ? "secure" : "plain");
const wanName = (wan: WanLayout | undefined) => (wan === undefined ? "no WAN" : formatWanLayout(wan));

/** How a wanted layout differs from the one a data directory holds, in words; undefined when it does not. */
export function layoutChange(existing: StackLayout, wanted: StackLayout): string | undefined {
  const changes: string[] = [];
  if (existing.sites.join(",") !== wanted.sites.join(",")) {
    changes.push(`sites ${existing.sites.join(",")} -> ${wanted.sites.join(",")}`);
  }
  if (existing.basePort !== wanted.basePort)
    changes.push(`base port ${existing.basePort} -> ${wanted.basePort}`);
  if ((existing.secure ?? false) !== (wanted.secure ?? false)) {
    changes.push(`${modeName(existing.secure)} mode -> ${modeName(wanted.secure)} mode`);
  }
  if (JSON.stringify(existing.wan) !== JSON.stringify(wanted.wan)) {
    changes.push(`${wanName(existing.wan)} -> ${wanName(wanted.wan)}`);
  }
  // Running servers are known by their command lines, which name the cache's jars and binaries.
  if (cacheDirOf(existing) !== cacheDirOf(wanted)) {
    changes.push(`cache ${cacheDirOf(existing)} -> ${cacheDirOf(wanted)}`);
  }
  return changes.length === 0 ? undefined : changes.join(", ");
}

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

function kafkaEndpoint(
  ports: SitePorts,
  layout: StackLayout,
  credentials: StackCredentials,
): SiteEndpoints["kafka"] {
  const brokers = [`127.0.0.1:${ports.kafka}`];
  if (!layout.secure) return { brokers };
  if (credentials.kafka === undefined) throw new Error("a secure stack needs Kafka credentials");
  const { username, password } = credentials.kafka;
  return {
    brokers,
    ssl: { ca: caCertificateFile(layout.dataDir) },
    sasl: { mechanism: "scram-sha-512", username, password },
  };
}

/** How each other site's services reach this one: through their direction's proxies. */
function reachedFrom(site: string, layout: StackLayout): SiteEndpoints["reachedFrom"] {
  if (layout.wan === undefined) return undefined;
  const entries = layout.sites
    .filter((from) => from !== site)
    .map((from): [string, RemoteAddresses] => {
      const ports = directionPorts(layout.basePort, layout.sites, PORTS_PER_SITE, { from, to: site });
      return [
        from,
        {
          kafka: { brokers: [`127.0.0.1:${ports.kafkaProxy}`] },
          registry: { url: registryUrl(ports.registryProxy) },
          objectStore: { endpoint: `http://127.0.0.1:${ports.s3Proxy}` },
        },
      ];
    });
  return Object.fromEntries(entries);
}

function siteEndpoints(
  site: string,
  index: number,
  layout: StackLayout,
  credentials: StackCredentials,
): SiteEndpoints {
  const ports = sitePorts(layout.basePort, index);
  const wan = reachedFrom(site, layout);
  return {
    site,
    ...(wan === undefined ? {} : { reachedFrom: wan }),
    kafka: kafkaEndpoint(ports, layout, credentials),
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

const wanPortsOf = (ctx: SiteContext) => ctx.wanListeners.map((listener) => listener.port);

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
      secure: options.secure ?? existing?.secure ?? false,
    };
    const wan = options.wan === undefined ? existing?.wan : (options.wan ?? undefined);
    if (wan !== undefined) this.layout.wan = wan;
    const cache = options.cacheDir ?? existing?.cacheDir ?? process.env.TANDEM_STACK_CACHE;
    if (cache !== undefined && cache !== "") this.layout.cacheDir = path.resolve(cache);
    this.credentials = loadOrCreateCredentials(dataDir, { kafka: this.layout.secure });
    this.progress = options.progress ?? (() => {});
  }

  endpoints(): StackEndpoints {
    const { sites } = this.layout;
    return { sites: sites.map((site, index) => siteEndpoints(site, index, this.layout, this.credentials)) };
  }

  /** Starts whatever is not running and waits until every server answers; safe to repeat. */
  async up(): Promise<StackEndpoints> {
    this.refuseLayoutChangeWhileRunning();
    this.warnOnEphemeralPorts();
    fs.writeFileSync(layoutFile(this.layout.dataDir), JSON.stringify({ ...this.layout }, null, 2));
    const contexts = this.layout.sites.map((site) => this.siteContext(site));
    await Promise.all(contexts.map((ctx) => this.checkPortsFree(ctx)));
    const runtime = this.runtime();
    this.ensureCertificateAuthority(runtime);
    await Promise.all(contexts.map((ctx) => this.upSite(ctx, runtime)));
    await this.upWan();
    return this.endpoints();
  }

  /**
   * Downloads and builds what `up` runs (the servers' jars, Toxiproxy for a WAN) without starting anything:
   * stacks started side by side then need not fetch the same files at once.
   */
  prepare(): void {
    this.runtime();
    if (this.layout.wan !== undefined) ensureToxiproxyBinary(cacheDirOf(this.layout), this.progress);
  }

  /** Runtime control of the WAN's proxies; throws when the stack has no WAN. */
  wanControl(): WanControl {
    const { wan, basePort, sites } = this.layout;
    if (wan === undefined) {
      throw new Error(
        `the stack in ${this.layout.dataDir} has no WAN: start it with 'tandem stack up --wan'`,
      );
    }
    const plan = wanDirections(sites).flatMap((direction) => this.plannedProxies(direction));
    return new WanControl(`http://127.0.0.1:${wanPorts(basePort, sites, PORTS_PER_SITE).toxiproxy}`, plan);
  }

  private plannedProxies(direction: WanDirection): PlannedProxy[] {
    const { basePort, sites } = this.layout;
    const ports = directionPorts(basePort, sites, PORTS_PER_SITE, direction);
    const target = sitePorts(basePort, sites.indexOf(direction.to));
    const upstreams = { kafka: ports.kafkaListener, registry: target.registry, s3: target.s3 };
    const listens = { kafka: ports.kafkaProxy, registry: ports.registryProxy, s3: ports.s3Proxy };
    return WAN_SERVICES.map((service) => ({
      name: proxyName(direction, service),
      direction,
      service,
      listen: `127.0.0.1:${listens[service]}`,
      upstream: `127.0.0.1:${upstreams[service]}`,
    }));
  }

  /** The WAN's Toxiproxy; `binary` defaults to where `stack up` builds it. */
  private toxiproxy(binary = toxiproxyBinary(cacheDirOf(this.layout))) {
    const { dataDir, basePort, sites } = this.layout;
    return toxiproxyServer(
      path.join(dataDir, "wan", "toxiproxy"),
      binary,
      wanPorts(basePort, sites, PORTS_PER_SITE).toxiproxy,
    );
  }

  private async upWan(): Promise<void> {
    const { wan } = this.layout;
    if (wan === undefined) return;
    const server = this.toxiproxy(ensureToxiproxyBinary(cacheDirOf(this.layout), this.progress));
    if (runningPid(server.proc) === undefined) {
      if (await isPortOpen(server.port)) {
        throw new Error(
          `port ${server.port} (wan toxiproxy) is already in use by another process: stop it or choose another --base-port`,
        );
      }
      this.progress(`starting wan toxiproxy on port ${server.port}`);
      server.start();
    }
    await server.waitReady(READY_TIMEOUT_MS);
    const created = await this.wanControl().ensure((direction) => profileOf(wan, direction));
    this.progress(
      `wan toxiproxy ready on port ${server.port} (${created} prox${created === 1 ? "y" : "ies"} created)`,
    );
  }

  async down(): Promise<number> {
    let stopped = 0;
    if (this.layout.wan !== undefined && (await stopProcess(this.toxiproxy().proc))) {
      stopped++;
      this.progress("stopped wan toxiproxy");
    }
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
    if (this.layout.wan !== undefined) {
      const toxiproxy = this.toxiproxy();
      const pid = runningPid(toxiproxy.proc);
      rows.push({
        site: "wan",
        kind: "toxiproxy",
        port: toxiproxy.port,
        pid,
        answering: await isPortOpen(toxiproxy.port),
      });
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
    if (runningPid(server.proc) === undefined) {
      const runtime = this.runtime();
      this.ensureCertificateAuthority(runtime);
      await server.start(runtime);
    }
    await server.waitReady(READY_TIMEOUT_MS);
  }

  private siteContext(site: string): SiteContext {
    const index = this.layout.sites.indexOf(site);
    if (index < 0) throw new Error(`unknown site "${site}": the stack has ${this.layout.sites.join(", ")}`);
    const { dataDir, basePort, secure, sites, wan } = this.layout;
    const wanListeners =
      wan === undefined
        ? []
        : sites
            .filter((from) => from !== site)
            .map((from) => {
              const ports = directionPorts(basePort, sites, PORTS_PER_SITE, { from, to: site });
              return {
                name: wanListenerName(from),
                port: ports.kafkaListener,
                advertisedPort: ports.kafkaProxy,
              };
            });
    return {
      dataDir,
      site,
      ports: sitePorts(basePort, index),
      credentials: this.credentials,
      secure: secure ?? false,
      wanListeners,
    };
  }

  private server(site: string, kind: ServerKind): LocalServer {
    return serverFor(kind, this.siteContext(site));
  }

  private runtime(): Runtime {
    return {
      java: findJava(),
      javaOptions: javaOptionsOf(process.env.TANDEM_STACK_JAVA_OPTIONS),
      artifacts: resolveArtifacts(cacheDirOf(this.layout), this.progress),
    };
  }

  /** The CA every secure site's broker certificate is signed by, made once per data directory. */
  private ensureCertificateAuthority(runtime: Runtime): void {
    if (!this.layout.secure) return;
    const { kafka } = this.credentials;
    if (kafka === undefined) throw new Error("a secure stack needs Kafka credentials");
    ensureCertificateAuthority(this.layout.dataDir, keytoolFor(runtime.java), kafka.keystorePassword);
  }

  private refuseLayoutChangeWhileRunning(): void {
    const existing = readLayout(this.layout.dataDir);
    if (!existing) return;
    const change = layoutChange(existing, this.layout);
    if (change === undefined) return;
    const previous = new LocalStack({
      dataDir: this.layout.dataDir,
      sites: existing.sites,
      basePort: existing.basePort,
      secure: existing.secure ?? false,
      wan: existing.wan ?? null,
      cacheDir: cacheDirOf(existing),
    });
    const anyRunning = existing.sites.some((site) =>
      SERVER_KINDS.some((kind) => runningPid(previous.server(site, kind).proc) !== undefined),
    );
    if (anyRunning) {
      throw new Error(
        `a stack with sites ${existing.sites.join(",")} on base port ${existing.basePort} in ` +
          `${modeName(existing.secure)} mode is running in ${this.layout.dataDir}; changing it (${change}) ` +
          `needs 'stack down' first, or use another --data-dir`,
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
    const { basePort, sites, wan } = this.layout;
    const last = lastStackPort(basePort, sites, PORTS_PER_SITE, wan !== undefined);
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
      const ports =
        kind !== "kafka"
          ? [server.port]
          : ctx.secure
            ? [ctx.ports.kafka, ctx.ports.kafkaController, ctx.ports.kafkaInternal, ...wanPortsOf(ctx)]
            : [ctx.ports.kafka, ctx.ports.kafkaController, ...wanPortsOf(ctx)];
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
