import pino from "pino";
import type { Topology } from "@tandem/config";
import { createKafka } from "@tandem/kafka";
import { createPool, siteTotals } from "@tandem/materializer";
import { collectStatus, linkForwardedRecords, type Thresholds } from "@tandem/operations";
import { LagSeries } from "./core/lag-series";
import { overviewOf, type Overview, type SiteFigures } from "./core/overview";

const quiet = pino({ level: "silent" });
const STOP_WAIT_MS = 2000;

export interface WatcherOptions {
  topology: Topology;
  thresholds: Thresholds;
  intervalMs: number;
  /** How long the lag history reaches back. */
  historyMs: number;
}

/**
 * Samples every site and link at a fixed interval (what `tandem status` reads, and each site's database
 * figures), keeps the lag history, and tells its listeners of each new overview.
 */
export class Watcher {
  readonly lag: LagSeries;
  private latest: Overview | undefined;
  private readonly listeners = new Set<(overview: Overview) => void>();
  private readonly pools;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: WatcherOptions) {
    this.lag = new LagSeries(options.historyMs, Math.ceil(options.historyMs / options.intervalMs));
    this.pools = new Map(options.topology.sites.map((site) => [site.id, createPool(site.postgres, 2, 3000)]));
  }

  start(): void {
    const tick = async () => {
      this.running = this.sample().catch(() => {});
      await this.running;
      if (!this.stopped) this.timer = setTimeout(() => void tick(), this.options.intervalMs);
    };
    void tick();
  }

  overview(): Overview | undefined {
    return this.latest;
  }

  /** Calls `listener` with every new overview until the returned function is called. */
  subscribe(listener: (overview: Overview) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A sample waiting on an unreachable cluster would hold a shutdown for its retries: it is let go.
    await Promise.race([this.running, new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())]);
    await Promise.all([...this.pools.values()].map((pool) => pool.end().catch(() => {})));
  }

  private async sample(): Promise<void> {
    const { topology } = this.options;
    const status = await collectStatus(topology, this.options.thresholds);
    const figures = new Map<string, SiteFigures | undefined>();
    await Promise.all(
      [...this.pools].map(async ([site, pool]) => {
        const totals = await siteTotals(pool).catch(() => undefined);
        figures.set(
          site,
          totals && {
            calls: [...totals.callsByOrigin.values()].reduce((sum, n) => sum + n, 0),
            audioPending: totals.audioPending,
            audioFailed: totals.audioFailed,
            users: totals.users,
            openConflicts: totals.openConflicts,
            openConflictsDigest: totals.openConflictsDigest,
          },
        );
      }),
    );
    const overview = overviewOf(status, figures);
    const atMs = Date.parse(status.at);
    const forwarded = await this.forwardedTotals();
    for (const link of overview.links) {
      this.lag.add(link.link, {
        atMs,
        lagRecords: link.lagRecords,
        lagSeconds: link.lagSeconds,
        forwardedTotal: forwarded.get(link.link),
      });
    }
    this.latest = overview;
    for (const listener of this.listeners) listener(overview);
  }

  private async forwardedTotals(): Promise<Map<string, number>> {
    const totals = new Map<string, number>();
    await Promise.all(
      this.options.topology.sites.map(async (site) => {
        const admin = createKafka(site.kafka, "tandem-console", quiet).admin({ retry: { retries: 1 } });
        try {
          await admin.connect();
          for (const link of this.options.topology.links.filter((l) => l.from === site.id)) {
            const total = await linkForwardedRecords(admin, link).catch(() => undefined);
            if (total !== undefined) totals.set(`${link.from}->${link.to}`, total);
          }
        } catch {
          // An unreachable source: no rate for its links this time.
        } finally {
          await admin.disconnect().catch(() => {});
        }
      }),
    );
    return totals;
  }
}
