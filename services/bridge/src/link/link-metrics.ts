import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { LINK_METRICS } from "@tandem/replication";

export type LinkState = "starting" | "running" | "paused" | "down" | "stopped";
export const LINK_STATES: readonly LinkState[] = ["starting", "running", "paused", "down", "stopped"];

/** Per-link figures in Prometheus format, labelled by `link` ("nyc->lon"). */
export class LinkMetrics {
  readonly recordsForwarded: Counter<"link">;
  readonly bytesForwarded: Counter<"link">;
  readonly recordsSkipped: Counter<"link" | "reason">;
  readonly alreadyDelivered: Counter<"link" | "topic">;
  readonly duplicatesSeen: Counter<"link">;
  readonly errors: Counter<"link" | "kind">;
  readonly deadLettered: Counter<"link">;
  readonly lagRecords: Gauge<"link">;
  readonly lagSeconds: Gauge<"link">;
  readonly recordAge: Histogram<"link">;
  readonly heartbeatLatency: Gauge<"link">;
  readonly state: Gauge<"link" | "state">;
  readonly recordsLost: Counter<"link" | "topic" | "partition">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.recordsForwarded = new Counter({
      name: LINK_METRICS.recordsForwarded,
      help: "Records written to the target cluster",
      labelNames: ["link"],
      registers,
    });
    this.bytesForwarded = new Counter({
      name: LINK_METRICS.bytesForwarded,
      help: "Key and value bytes written to the target cluster",
      labelNames: ["link"],
      registers,
    });
    this.recordsSkipped = new Counter({
      name: LINK_METRICS.recordsSkipped,
      help: "Records not forwarded by design (filter, cycle, stream)",
      labelNames: ["link", "reason"],
      registers,
    });
    this.alreadyDelivered = new Counter({
      name: LINK_METRICS.alreadyDelivered,
      help: "Records read again at the source and not forwarded: the target had recorded them (exactly-once)",
      labelNames: ["link", "topic"],
      registers,
    });
    this.duplicatesSeen = new Counter({
      name: LINK_METRICS.duplicatesSeen,
      help: "Records forwarded whose event id this process had delivered from the same partition lately",
      labelNames: ["link"],
      registers,
    });
    this.errors = new Counter({
      name: LINK_METRICS.errors,
      help: "Failed attempts (target or source unreachable, registry errors, fenced by a newer writer)",
      labelNames: ["link", "kind"],
      registers,
    });
    this.deadLettered = new Counter({
      name: LINK_METRICS.deadLettered,
      help: "Records sent to the source site's tandem.dlq",
      labelNames: ["link"],
      registers,
    });
    this.lagRecords = new Gauge({
      name: LINK_METRICS.lagRecords,
      help: "Records at the source not yet forwarded (last fetched batch)",
      labelNames: ["link"],
      registers,
    });
    this.lagSeconds = new Gauge({
      name: LINK_METRICS.lagSeconds,
      help: "Age of the oldest record not yet forwarded, 0 when caught up",
      labelNames: ["link"],
      registers,
    });
    this.recordAge = new Histogram({
      name: LINK_METRICS.recordAge,
      help: "Time from a record's timestamp at the source to its delivery at the target",
      labelNames: ["link"],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86400],
      registers,
    });
    this.heartbeatLatency = new Gauge({
      name: LINK_METRICS.heartbeatLatency,
      help: "Delay of the latest heartbeat through the link",
      labelNames: ["link"],
      registers,
    });
    this.recordsLost = new Counter({
      name: LINK_METRICS.recordsLost,
      help: "Records that retention deleted at the source before the link forwarded them",
      labelNames: ["link", "topic", "partition"],
      registers,
    });
    this.state = new Gauge({
      name: LINK_METRICS.state,
      help: "1 for the link's current state",
      labelNames: ["link", "state"],
      registers,
    });
  }

  setState(link: string, current: LinkState): void {
    for (const state of LINK_STATES) this.state.set({ link, state }, state === current ? 1 : 0);
  }
}
