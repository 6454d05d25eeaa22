import { randomUUID } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import type { Topology } from "@tandem/config";
import { EventCodec, HybridLogicalClock } from "@tandem/events";
import { createKafka } from "@tandem/kafka";
import { openObjectStore } from "@tandem/object-store";
import { RecorderPublisher, recorderPopulation, runRecorder, type Stats } from "@tandem/recorder";
import { DEFAULT_BACKOFF, retryWithBackoff, type Logger } from "@tandem/runtime";
import type { ServerKind, WanControl } from "@tandem/stack";
import { writeTopologyFile } from "../../../services/cli/src/local-topology";
import { verifySites, type VerifyReport, linkLagRecords } from "@tandem/operations";
import { convergenceProblems, type ConflictRow, type SiteReading } from "./convergence";
import { LagTracker, parseLinkLag, type LinkLag } from "./lag";
import { logWarnings } from "./log-digest";
import {
  describeFault,
  faultSchedule,
  faultsByKind,
  linkName,
  peakConcurrency,
  type Fault,
  type FaultKind,
  type ScheduleOptions,
} from "./schedule";
import { ServiceProcess } from "./service";
import { auditTopology, linkTopology, materializerTopology } from "./topology";

/** How the soak reaches the servers of the stack it runs on. */
export interface SoakControl {
  stop(site: string, kind: ServerKind): Promise<void>;
  start(site: string, kind: ServerKind): Promise<void>;
  /** The stack's WAN (Toxiproxy): a cut link is a cut of its proxies. */
  wan: WanControl;
}

export interface SoakOptions {
  /** The sites and a link between every two of them (see `localTopology` and `meshLinks`). */
  topology: Topology;
  /** Per site, the (empty) database its materializer writes and the audit reads. */
  databases: Record<string, string>;
  control: SoakControl;
  /** Same seed, same fault schedule. */
  seed: string | number;
  durationMs: number;
  /** Topology files and the services' logs go here. */
  workDir: string;
  callsPerSecond?: number;
  userChangesPerSecond?: number;
  maxCallSeconds?: number;
  /** Every this often, all sites edit the same new user at once: concurrent edits, conflicts. */
  contestEveryMs?: number;
  settleTimeoutMs?: number;
  /** Gaps and fault durations of the schedule. */
  schedule?: Pick<ScheduleOptions, "maxConcurrent" | "minGapMs" | "maxGapMs" | "minFaultMs" | "maxFaultMs">;
  logger: Logger;
  say: (line: string) => void;
}

export interface SoakReport {
  seed: string | number;
  runId: string;
  /** The soak's tenants: what the audit was restricted to. */
  tenants: string[];
  schedule: Fault[];
  faultsInjected: Record<FaultKind, number>;
  peakConcurrentFaults: number;
  recorded: Stats[];
  contestedEdits: number;
  eventsProduced: number;
  callsRecorded: number;
  maxLag: LinkLag;
  lagByLink: Record<string, LinkLag>;
  unexpectedExits: Record<string, number>;
  /** Per service, its logged warnings by message (see `logWarnings`); only for a run that did not converge. */
  serviceWarnings: Record<string, string[]>;
  /** From the last fault cleared to the sites converged (or to the deadline). */
  convergeMs: number;
  readings: SiteReading[];
  audit: VerifyReport;
  problems: string[];
  converged: boolean;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function readSite(site: string, database: string, tenants: string[]): Promise<SiteReading> {
  const client = new pg.Client({ connectionString: database, connectionTimeoutMillis: 5000 });
  // A connection lost between queries must fail the next query, not end the process.
  client.on("error", () => {});
  await client.connect();
  try {
    const calls = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM calls WHERE tenant_id = ANY($1::uuid[])",
      [tenants],
    );
    const conflicts = await client.query<ConflictRow>(
      `SELECT c.user_id AS "userId", c.field, c.status, c.winner::text AS winner
         FROM conflicts c JOIN users u USING (user_id) WHERE u.tenant_id = ANY($1::uuid[])`,
      [tenants],
    );
    return { site, calls: Number(calls.rows[0]!.n), conflicts: conflicts.rows };
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The fault-injection soak: recorders at every site, a bridge process per link and a materializer process
 * per site, while a seeded schedule kills, stops and cuts; then, faults cleared and recorders stopped, it
 * waits for the sites to converge and says whether they did, with the figures of the run.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { topology, say, logger } = options;
  const runId = randomUUID().slice(0, 8);
  const sites = topology.sites.map((s) => s.id);
  const logDir = path.join(options.workDir, "logs");
  fs.mkdirSync(logDir, { recursive: true });
  const abort = new AbortController();

  const schedule = faultSchedule({
    seed: options.seed,
    durationMs: options.durationMs,
    sites,
    links: topology.links,
    ...options.schedule,
  });
  say(`soak ${runId}: seed ${options.seed}, ${schedule.length} faults over ${options.durationMs / 1000}s`);
  for (const fault of schedule) say(`  planned: ${describeFault(fault)}`);

  const bridges = new Map<string, { process: ServiceProcess; opsPort: number }>();
  for (const link of topology.links) {
    const name = linkName(link);
    const file = path.join(options.workDir, `bridge-${link.from}-${link.to}.yaml`);
    writeTopologyFile(file, linkTopology(topology, link));
    const opsPort = await freePort();
    const service = new ServiceProcess({
      name: `bridge ${name}`,
      args: ["run", "--config", file, "--site", link.to, "--role", "bridge"].concat([
        "--bridge-ops-port",
        String(opsPort),
        "--instance",
        `soak-${link.from}-${link.to}`,
      ]),
      logFile: path.join(logDir, `bridge-${link.from}-${link.to}.log`),
    });
    bridges.set(name, { process: service, opsPort });
  }
  const materializers = new Map<string, ServiceProcess>();
  for (const site of sites) {
    const database = options.databases[site];
    if (database === undefined) throw new Error(`no database given for site ${site}`);
    const file = path.join(options.workDir, `materializer-${site}.yaml`);
    writeTopologyFile(file, materializerTopology(topology, site, database));
    materializers.set(
      site,
      new ServiceProcess({
        name: `materializer ${site}`,
        args: ["run", "--config", file, "--site", site, "--role", "materializer"],
        // A group of its own: the run's databases are rebuilt from every topic, whatever came before.
        env: { TANDEM_MATERIALIZER_GROUP: `tandem-soak-${runId}.${site}` },
        logFile: path.join(logDir, `materializer-${site}.log`),
      }),
    );
  }
  const services = [...[...bridges.values()].map((b) => b.process), ...materializers.values()];

  const lag = new LagTracker();
  // Records behind come from each link's committed offsets, which a killed or frozen bridge cannot hide;
  // seconds behind from the bridges' own gauges, when they answer.
  const admins = new Map(
    topology.sites.map((site) => [site.id, createKafka(site.kafka, "tandem-soak-lag", logger).admin()]),
  );
  await Promise.all([...admins.values()].map((admin) => admin.connect()));
  const sampleCommittedLag = async () => {
    await Promise.all(
      topology.links.map(async (link) => {
        try {
          const records = await linkLagRecords(admins.get(link.from)!, link);
          lag.observe(new Map([[`${link.from}->${link.to}`, { records, seconds: 0 }]]));
        } catch {
          // The source cluster is stopped by a fault: its lag shows once it is back.
        }
      }),
    );
  };
  const sampleLag = async () => {
    await sampleCommittedLag();
    await Promise.all(
      [...bridges.values()].map(async ({ opsPort }) => {
        try {
          const response = await fetch(`http://127.0.0.1:${opsPort}/metrics`, {
            signal: AbortSignal.timeout(1500),
          });
          if (response.ok) lag.observe(parseLinkLag(await response.text()));
        } catch {
          // A bridge killed or frozen by a fault has no metrics to give: its lag shows once it is back.
        }
      }),
    );
  };
  const lagTimer = setInterval(() => void sampleLag(), 2000);

  const recorderSeeds = sites.map((site) => `${options.seed}-${runId}-${site}`);
  const populations = recorderSeeds.map((seed) => recorderPopulation(seed));
  const tenants = populations.flatMap((p) => p.tenants.map((t) => t.id));
  const contestTenant = populations[0]!.tenants[0]!;
  const contestGroup = contestTenant.groups[0]!;

  const publishers = sites.map((id) => {
    const site = topology.sites.find((s) => s.id === id)!;
    const kafka = createKafka(site.kafka, `tandem-soak-editor-${id}`, logger);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const store = openObjectStore(site.objectStore);
    const publisher = new RecorderPublisher({
      site: id,
      producer,
      codec: new EventCodec({ host: site.registry.url, clientId: `tandem-soak-editor-${id}` }),
      store,
      clock: new HybridLogicalClock(() => Date.now()),
    });
    return { id, producer, store, publisher };
  });

  const restores: number[] = [];
  const runFault = async (fault: Fault, startedAt: number) => {
    await sleep(startedAt + fault.atMs - Date.now(), abort.signal);
    if (abort.signal.aborted) return;
    const startServer = async (site: string, kind: ServerKind) => {
      // A restart can race the port's release; a few tries, then the error is the soak's.
      for (let attempt = 1; ; attempt++) {
        try {
          return await options.control.start(site, kind);
        } catch (error) {
          if (attempt >= 5) throw error;
          await sleep(5000);
        }
      }
    };
    let restore: () => Promise<void>;
    switch (fault.kind) {
      case "kill-bridge": {
        const bridge = bridges.get(linkName(fault.link))!.process;
        await bridge.kill();
        restore = async () => bridge.start();
        break;
      }
      case "kill-materializer": {
        const materializer = materializers.get(fault.site)!;
        await materializer.kill();
        restore = async () => materializer.start();
        break;
      }
      case "cut-link": {
        // Everything a link carries (the bridge's fetches and schema look-ups, the materializer's audio
        // copies) goes from the target site's services to the source site's servers: that direction.
        const direction = [{ from: fault.link.to, to: fault.link.from }];
        await options.control.wan.cut(direction, fault.mode);
        restore = () => options.control.wan.heal(direction);
        break;
      }
      default: {
        const kind = (
          { "stop-kafka": "kafka", "stop-object-store": "s3", "restart-postgres": "postgres" } as const
        )[fault.kind];
        const { site } = fault;
        await options.control.stop(site, kind);
        restore = () => startServer(site, kind);
      }
    }
    say(`[${((Date.now() - startedAt) / 1000).toFixed(0)}s] fault: ${describeFault(fault)}`);
    await sleep(startedAt + fault.atMs + fault.durationMs - Date.now(), abort.signal);
    await restore();
    restores.push(Date.now());
    say(`[${((Date.now() - startedAt) / 1000).toFixed(0)}s] cleared: ${describeFault(fault)}`);
  };

  const recorded = new Map<string, Stats>();
  let contestedEdits = 0;
  const contests: Array<Promise<void>> = [];
  const contestRound = (round: number) => {
    const userId = randomUUID();
    for (const { id, publisher } of publishers) {
      const eventId = randomUUID();
      contests.push(
        retryWithBackoff(
          () =>
            publisher.publishUserChanged({
              userId,
              tenantId: contestTenant.id,
              groupId: contestGroup.id,
              operation: "UPSERT",
              // Based on nothing: every site's edit is concurrent with the others'.
              baseVersion: {},
              changes: { name: `Contested ${round} from ${id}`, active: true },
              eventId,
            }),
          { policy: { ...DEFAULT_BACKOFF, maxMs: 10_000 }, maxAttempts: 30 },
        ).then(
          () => {
            contestedEdits++;
          },
          (error: unknown) => logger.warn({ err: error, userId, site: id }, "contested edit given up"),
        ),
      );
    }
  };

  let settled: SoakReport | undefined;
  try {
    await Promise.all(publishers.map((p) => p.producer.connect()));
    // The bridges first: they create the remote topics that the materializers subscribe to.
    for (const { process } of bridges.values()) process.start();
    await Promise.all(
      [...bridges.values()].map(async ({ process, opsPort }) => {
        const deadline = Date.now() + 180_000;
        for (;;) {
          const up = await fetch(`http://127.0.0.1:${opsPort}/metrics`, { signal: AbortSignal.timeout(1000) })
            .then((r) => r.ok)
            .catch(() => false);
          if (up) return;
          if (Date.now() > deadline) throw new Error(`${process.spec.name} did not start: see its log`);
          await sleep(1000);
        }
      }),
    );
    for (const materializer of materializers.values()) materializer.start();
    say(`${bridges.size} bridges and ${materializers.size} materializers running; logs in ${logDir}`);

    const startedAt = Date.now();
    const recorders = sites.map((id, index) =>
      runRecorder({
        site: topology.sites.find((s) => s.id === id)!,
        callsPerSecond: options.callsPerSecond ?? 1,
        userChangesPerSecond: options.userChangesPerSecond ?? 0.5,
        maxCallSeconds: options.maxCallSeconds ?? 10,
        seed: recorderSeeds[index]!,
        logger: logger.child({ recorder: id }),
        progressIntervalMs: 5000,
        onProgress: (stats) => recorded.set(id, stats),
      }),
    );
    const contestEvery = options.contestEveryMs ?? 20_000;
    let round = 0;
    const contestTimer = setInterval(() => contestRound(++round), contestEvery);
    const progressTimer = setInterval(() => {
      const calls = [...recorded.values()].reduce((sum, s) => sum + s.calls, 0);
      say(
        `[${((Date.now() - startedAt) / 1000).toFixed(0)}s] ${calls} calls recorded, max lag ` +
          `${lag.max.records} records / ${lag.max.seconds.toFixed(1)}s`,
      );
    }, 30_000);
    try {
      // A fault that cannot be applied or undone ends the run; the others are undone before it fails.
      const outcomes = await Promise.allSettled(
        schedule.map((fault) =>
          runFault(fault, startedAt).catch((error: unknown) => {
            abort.abort();
            throw error;
          }),
        ),
      );
      const failed = outcomes.find((o) => o.status === "rejected");
      if (failed !== undefined) throw failed.reason;
      await sleep(startedAt + options.durationMs - Date.now(), abort.signal);
    } finally {
      clearInterval(contestTimer);
      clearInterval(progressTimer);
      await Promise.all(recorders.map((r) => r.stop()));
      for (const [index, run] of recorders.entries()) recorded.set(sites[index]!, await run.done);
    }
    await Promise.all(contests);
    const clearedAt = Math.max(startedAt, ...restores);
    say(`faults cleared, recorders stopped; waiting for the sites to converge`);

    const audit = auditTopology(topology, options.databases);
    const callsRecorded = [...recorded.values()].reduce((sum, s) => sum + s.calls, 0);
    const deadline = Date.now() + (options.settleTimeoutMs ?? 300_000);
    for (;;) {
      const report = await verifySites(audit, sites, { tenants });
      const readings = await Promise.all(sites.map((s) => readSite(s, options.databases[s]!, tenants)));
      const problems = convergenceProblems(report, readings, callsRecorded);
      const stats = [...recorded.values()];
      settled = {
        seed: options.seed,
        runId,
        tenants,
        schedule,
        faultsInjected: faultsByKind(schedule),
        peakConcurrentFaults: peakConcurrency(schedule),
        recorded: stats,
        contestedEdits,
        eventsProduced: stats.reduce((sum, s) => sum + s.events, 0) + contestedEdits,
        callsRecorded,
        maxLag: lag.max,
        lagByLink: Object.fromEntries(lag.byLink),
        unexpectedExits: Object.fromEntries(services.map((s) => [s.spec.name, s.unexpectedExits])),
        serviceWarnings: {},
        convergeMs: Date.now() - clearedAt,
        readings,
        audit: report,
        problems,
        converged: problems.length === 0,
      };
      if (settled.converged) break;
      if (Date.now() > deadline) {
        settled.serviceWarnings = Object.fromEntries(
          services.map((s) => [s.spec.name, logWarnings(s.spec.logFile)]),
        );
        break;
      }
      await sleep(5000);
    }
    return settled;
  } finally {
    abort.abort();
    clearInterval(lagTimer);
    await Promise.all([...admins.values()].map((admin) => admin.disconnect().catch(() => {})));
    await Promise.all(services.map((s) => s.stop()));
    for (const { producer, store } of publishers) {
      await producer.disconnect().catch(() => {});
      store.close();
    }
  }
}
