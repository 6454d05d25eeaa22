import { LINK_METRICS, metricSamples } from "@tandem/replication";

/** The lag a bridge reports on its /metrics, per link. */
export interface LinkLag {
  records: number;
  seconds: number;
}

/** Reads the link lag gauges out of a Prometheus text exposition; other lines are ignored. */
export function parseLinkLag(text: string): Map<string, LinkLag> {
  const lags = new Map<string, LinkLag>();
  const read = (metric: string, field: keyof LinkLag) => {
    for (const { labels, value } of metricSamples(text, metric)) {
      if (labels.link === undefined) continue;
      const lag = lags.get(labels.link) ?? { records: 0, seconds: 0 };
      lag[field] = value;
      lags.set(labels.link, lag);
    }
  };
  read(LINK_METRICS.lagRecords, "records");
  read(LINK_METRICS.lagSeconds, "seconds");
  return lags;
}

/** The largest lag seen so far, per link and overall. */
export class LagTracker {
  readonly byLink = new Map<string, LinkLag>();

  observe(lags: Map<string, LinkLag>): void {
    for (const [link, lag] of lags) {
      const seen = this.byLink.get(link) ?? { records: 0, seconds: 0 };
      this.byLink.set(link, {
        records: Math.max(seen.records, lag.records),
        seconds: Math.max(seen.seconds, lag.seconds),
      });
    }
  }

  get max(): LinkLag {
    let records = 0;
    let seconds = 0;
    for (const lag of this.byLink.values()) {
      records = Math.max(records, lag.records);
      seconds = Math.max(seconds, lag.seconds);
    }
    return { records, seconds };
  }
}
