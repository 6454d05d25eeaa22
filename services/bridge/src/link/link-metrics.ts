import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export type LinkState = "starting" | "running" | "paused" | "down" | "stopped";
export const LINK_STATES: readonly LinkState[] = ["starting", "running", "paused", "down", "stopped"];

/** Per-link figures in Prometheus format, labelled by `link` ("nyc->lon"). */
export class LinkMetrics {
  readonly recordsForwarded: Counter<"link">;
  readonly bytesForwarded: Counter<"link">;
  readonly recordsSkipped: Counter<"link" | "reason">;
  readonly errors: Counter<"link" | "kind">;
  readonly deadLettered: Counter<"link">;
  readonly lagRecords: Gauge<"link">;
  readonly lagSeconds: Gauge<"link">;
  readonly recordAge: Histogram<"link">;
  readonly heartbeatLatency: Gauge<"link">;
  readonly state: Gauge<"link" | "state">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.recordsForwarded = new Counter({
      name: "tandem_link_records_forwarded_total",
      help: "Records written to the target cluster",
      labelNames: ["link"],
      registers,
    });
    this.bytesForwarded = new Counter({
      name: "tandem_link_bytes_forwarded_total",
      help: "Key and value bytes written to the target cluster",
      labelNames: ["link"],
      registers,
    });
    this.recordsSkipped = new Counter({
      name: "tandem_link_records_skipped_total",
      help: "Records not forwarded by design (filter, cycle, stream)",
      labelNames: ["link", "reason"],
      registers,
    });
    this.errors = new Counter({
      name: "tandem_link_errors_total",
      help: "Failed attempts (target or source unreachable, registry errors)",
      labelNames: ["link", "kind"],
      registers,
    });
    this.deadLettered = new Counter({
      name: "tandem_link_dlq_records_total",
      help: "Records sent to the source site's tandem.dlq",
      labelNames: ["link"],
      registers,
    });
    this.lagRecords = new Gauge({
      name: "tandem_link_lag_records",
      help: "Records at the source not yet forwarded (last fetched batch)",
      labelNames: ["link"],
      registers,
    });
    this.lagSeconds = new Gauge({
      name: "tandem_link_lag_seconds",
      help: "Age of the oldest record not yet forwarded, 0 when caught up",
      labelNames: ["link"],
      registers,
    });
    this.recordAge = new Histogram({
      name: "tandem_link_record_age_seconds",
      help: "Time from a record's timestamp at the source to its delivery at the target",
      labelNames: ["link"],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86400],
      registers,
    });
    this.heartbeatLatency = new Gauge({
      name: "tandem_link_heartbeat_latency_seconds",
      help: "Delay of the latest heartbeat through the link",
      labelNames: ["link"],
      registers,
    });
    this.state = new Gauge({
      name: "tandem_link_state",
      help: "1 for the link's current state",
      labelNames: ["link", "state"],
      registers,
    });
  }

  setState(link: string, current: LinkState): void {
    for (const state of LINK_STATES) this.state.set({ link, state }, state === current ? 1 : 0);
  }
}
