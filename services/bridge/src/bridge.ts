import { Registry, collectDefaultMetrics } from "prom-client";
import { tuningOf, type LinkConfig, type Topology } from "@tandem/config";
import { startOpsServer, type Logger } from "@tandem/runtime";
import { RelayPlan } from "@tandem/replication";
import { LinkMetrics } from "./link/link-metrics";
import { LinkWorker, type LinkStatus } from "./link/link-worker";
import type { BackoffPolicy } from "@tandem/runtime";

export interface BridgeOptions {
  topology: Topology;
  /** Which links this process runs; by default every link of the topology. */
  selectLinks?: (link: LinkConfig) => boolean;
  logger: Logger;
  /** Port of `/metrics`, `/healthz` and `POST /links/<from>-<to>/catch-up`; none when undefined. */
  opsPort?: number;
  now?: () => Date;
  instanceId?: string;
  heartbeatIntervalMs?: number;
  topicRefreshMs?: number;
  backoff?: BackoffPolicy;
  topicConfigSyncMs?: number;
}

export interface RunningBridge {
  links: LinkWorker[];
  /** Resolves once every link has connected to both clusters and consumes (it waits while one is down). */
  ready: Promise<void>;
  opsPort: number | undefined;
  status(): LinkStatus[];
  catchUp(linkId: string): boolean;
  stop(): Promise<void>;
}

/** Runs the links of a topology, each as its own worker, with one operations endpoint for all. */
export async function runBridge(options: BridgeOptions): Promise<RunningBridge> {
  const { topology, logger } = options;
  const metricsRegistry = new Registry();
  collectDefaultMetrics({ register: metricsRegistry, prefix: "tandem_bridge_" });
  const metrics = new LinkMetrics(metricsRegistry);
  const sites = new Map(topology.sites.map((site) => [site.id, site]));
  const relayPlan = new RelayPlan(topology.links);
  const selected = topology.links.filter(options.selectLinks ?? (() => true));
  if (selected.length === 0) throw new Error("no link to run: the topology has no link for this bridge");
  const workers = selected.map(
    (link) =>
      new LinkWorker({
        link,
        source: sites.get(link.from)!,
        target: sites.get(link.to)!,
        logger,
        metrics,
        relayPlan,
        now: options.now,
        instanceId: options.instanceId,
        tuning: tuningOf(topology).bridge,
        heartbeatIntervalMs: options.heartbeatIntervalMs,
        topicRefreshMs: options.topicRefreshMs,
        backoff: options.backoff,
        topicConfigSyncMs: options.topicConfigSyncMs,
      }),
  );
  const byRouteId = new Map(workers.map((w) => [w.id.replace("->", "-"), w]));
  const catchUp = (linkId: string) => {
    const worker = byRouteId.get(linkId.replace("->", "-"));
    worker?.requestCatchUp();
    return worker !== undefined;
  };
  const ops =
    options.opsPort === undefined
      ? undefined
      : await startOpsServer({
          port: options.opsPort,
          metrics: metricsRegistry,
          health: () => {
            const links = workers.map((w) => w.status());
            return { healthy: links.every((l) => l.state !== "down"), details: { links } };
          },
          routes: Object.fromEntries(
            [...byRouteId.keys()].map((routeId) => [
              `POST /links/${routeId}/catch-up`,
              async () => ({ status: 202, body: { link: routeId, catchUp: catchUp(routeId) } }),
            ]),
          ),
        });
  // Links start independently: one whose peer is down keeps retrying without holding the others back.
  const started = workers.map((worker) =>
    worker.start().catch((error: unknown) => {
      logger.debug({ link: worker.id, error: (error as Error).message }, "link start abandoned");
    }),
  );
  logger.info({ links: workers.map((w) => w.id), opsPort: ops?.port }, "bridge started");
  return {
    links: workers,
    ready: Promise.all(started).then(() => undefined),
    opsPort: ops?.port,
    status: () => workers.map((w) => w.status()),
    catchUp,
    stop: async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(started);
      await ops?.close();
      logger.info("bridge stopped");
    },
  };
}
