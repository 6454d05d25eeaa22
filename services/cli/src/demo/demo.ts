import path from "node:path";
import pino from "pino";
import { runBridge } from "@tandem/bridge";
import { runConsole, type ListenAddress, type RunningConsole } from "@tandem/console";
import { DEFAULT_THRESHOLDS } from "@tandem/operations";
import { createPool, runMaterializer } from "@tandem/materializer";
import { runRecorder, type RecorderRun } from "@tandem/recorder";
import { LocalStack } from "@tandem/stack";
import { localTopology, meshLinks } from "../local-topology";
import { verifySites, type VerifyReport } from "@tandem/operations";
import { formatDashboard, type DemoSnapshot } from "./dashboard";
import { siteFigures } from "./snapshot";

export interface DemoOptions {
  dataDir: string;
  sites: string[];
  basePort?: number;
  durationSeconds: number;
  callsPerSecond: number;
  userChangesPerSecond: number;
  maxCallSeconds: number;
  settleTimeoutSeconds: number;
  seed: number;
  /** Where the operator's console listens while the demo runs. */
  consoleListen: ListenAddress;
  /** Where the services' JSON logs go; the terminal shows the dashboard. */
  logFile: string;
  out: NodeJS.WriteStream;
}

/**
 * Tandem's main job on a local stack: recorders at every site, a mesh of bridges and a materializer per
 * site; live figures while it runs; at the end (or on Ctrl-C) recorders stop, the sites are given time
 * to converge, and an audit compares them. Resolves with the audit.
 */
export async function runDemo(options: DemoOptions, interrupted: AbortSignal): Promise<VerifyReport> {
  const say = (line: string) => options.out.write(`${line}\n`);
  const stack = new LocalStack({
    dataDir: options.dataDir,
    sites: options.sites,
    basePort: options.basePort,
    progress: (message) => say(`[stack] ${message}`),
  });
  say(`starting a local stack of ${options.sites.length} sites (real Kafka, registry, PostgreSQL, S3)...`);
  const endpoints = await stack.up();
  const topology = localTopology(endpoints, meshLinks(options.sites));
  const logger = pino(
    { level: "info" },
    pino.destination({ dest: options.logFile, sync: false, mkdir: true }),
  );
  say(`services log to ${path.relative(process.cwd(), options.logFile)}`);

  // Whatever has started is stopped on the way out, a failure included: a running service would keep the
  // process alive after the error was printed (a demo whose first query timed out never exited).
  const stops: Array<() => Promise<unknown>> = [];
  try {
    return await demonstrate(options, topology, logger, say, interrupted, stops);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
  }
}

async function demonstrate(
  options: DemoOptions,
  topology: ReturnType<typeof localTopology>,
  logger: pino.Logger,
  say: (line: string) => void,
  interrupted: AbortSignal,
  stops: Array<() => Promise<unknown>>,
): Promise<VerifyReport> {
  // The bridge first: it creates the remote topics that the materializers then subscribe to at once.
  const bridge = await runBridge({ topology, logger: logger.child({ component: "bridge" }) });
  stops.push(() => bridge.stop());
  await bridge.ready;
  const materializers = await Promise.allSettled(
    options.sites.map((siteId) =>
      runMaterializer({ topology, siteId, logger: logger.child({ site: siteId }) }),
    ),
  );
  for (const started of materializers) {
    if (started.status === "fulfilled") stops.push(() => started.value.stop());
  }
  for (const started of materializers) if (started.status === "rejected") throw started.reason;
  // A connection waits longer than the services' 5 s: on a machine busy starting servers it took more.
  const pools = new Map(topology.sites.map((site) => [site.id, createPool(site.postgres, 2, 30_000)]));
  stops.push(() => Promise.all([...pools.values()].map((p) => p.end())));
  const operatorConsole = await startConsole(topology, options, say);
  if (operatorConsole !== undefined) stops.push(() => operatorConsole.stop());
  // Calls already in the databases from earlier runs: the convergence check counts from here.
  const baseline = new Map((await siteFigures(pools, new Map())).map((site) => [site.site, site.localCalls]));
  say(`recorder seed ${options.seed} (--seed ${options.seed} records the same calls on a fresh stack)`);
  const recorded = new Map<string, { calls: number; userChanges: number; audioBytes: number }>();
  const recorders: RecorderRun[] = options.sites.map((siteId, index) =>
    runRecorder({
      site: topology.sites.find((s) => s.id === siteId)!,
      callsPerSecond: options.callsPerSecond,
      userChangesPerSecond: options.userChangesPerSecond,
      maxCallSeconds: options.maxCallSeconds,
      durationSeconds: options.durationSeconds,
      seed: options.seed * 100 + index,
      logger: logger.child({ recorder: siteId }),
      progressIntervalMs: 1000,
      onProgress: (stats) => recorded.set(siteId, stats),
    }),
  );
  stops.push(() => Promise.all(recorders.map((r) => r.stop())));

  const started = Date.now();
  let phase = "recording";
  let drawn = 0;
  const draw = async () => {
    const snapshot: DemoSnapshot = {
      elapsedMs: Date.now() - started,
      phase,
      sites: await siteFigures(pools, recorded).catch(() => []),
      links: bridge.status(),
    };
    const lines = formatDashboard(snapshot);
    if (options.out.isTTY && drawn > 0) options.out.write(`\x1b[${drawn}A\x1b[0J`);
    options.out.write(`${lines.join("\n")}\n`);
    drawn = options.out.isTTY ? lines.length : 0;
  };
  const ticker = setInterval(() => void draw(), options.out.isTTY ? 1000 : 5000);
  stops.push(async () => clearInterval(ticker));

  await Promise.race([
    Promise.all(recorders.map((r) => r.done)),
    new Promise<void>((resolve) => interrupted.addEventListener("abort", () => resolve(), { once: true })),
  ]);
  phase = "stopping recorders";
  await Promise.all(recorders.map((r) => r.stop()));
  for (const [index, run] of recorders.entries()) recorded.set(options.sites[index]!, await run.done);

  phase = "converging";
  // Every published call must be in its own site's database, nothing pending and no link behind, before
  // the audit: otherwise an event still on its way to every database would go unseen.
  const settled = async () => {
    const figures = await siteFigures(pools, recorded);
    const linksIdle = bridge.status().every((link) => link.lagRecords === 0);
    return (
      linksIdle &&
      figures.every(
        (site) =>
          site.localCalls === (baseline.get(site.site) ?? 0) + site.recorded && site.audioPending === 0,
      )
    );
  };
  const deadline = Date.now() + options.settleTimeoutSeconds * 1000;
  let report: VerifyReport;
  let converged: boolean;
  for (;;) {
    report = await verifySites(topology, options.sites);
    converged = report.consistent && (await settled());
    if (converged || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
  phase = converged ? "converged" : "not converged";
  await draw();
  return { ...report, consistent: converged };
}

/** The console beside the demo; a demo without it (its port taken) still runs. */
async function startConsole(
  topology: Parameters<typeof runConsole>[0]["topology"],
  options: DemoOptions,
  say: (line: string) => void,
): Promise<RunningConsole | undefined> {
  try {
    const running = await runConsole({
      topology,
      listen: options.consoleListen,
      credentials: {
        adminPassword: process.env.TANDEM_CONSOLE_ADMIN_PASSWORD,
        viewerPassword: process.env.TANDEM_CONSOLE_VIEWER_PASSWORD,
      },
      generatedPasswordFile: path.join(options.dataDir, "console", "admin-password"),
      bridgeUrls: new Map(),
      thresholds: DEFAULT_THRESHOLDS,
      intervalMs: 5000,
      historyMs: 24 * 3600 * 1000,
    });
    const login =
      running.passwordFile === undefined
        ? "TANDEM_CONSOLE_ADMIN_PASSWORD"
        : `the password in ${path.relative(process.cwd(), running.passwordFile)}`;
    say(`console at ${running.url} while the demo runs (user admin, ${login})`);
    return running;
  } catch (error) {
    say(`console not started: ${(error as Error).message}`);
    return undefined;
  }
}
