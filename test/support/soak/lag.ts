/** The lag a bridge reports on its /metrics, per link. */
export interface LinkLag {
  records: number;
  seconds: number;
}

const SAMPLE = /^(tandem_link_lag_records|tandem_link_lag_seconds)\{([^}]*)\}\s+(\S+)/;
const LINK_LABEL = /(?:^|,)link="((?:[^"\\]|\\.)*)"/;

/** Reads the link lag gauges out of a Prometheus text exposition; other lines are ignored. */
export function parseLinkLag(text: string): Map<string, LinkLag> {
  const lags = new Map<string, LinkLag>();
  for (const line of text.split("\n")) {
    const sample = SAMPLE.exec(line);
    if (sample === null) continue;
    const link = LINK_LABEL.exec(sample[2]!)?.[1];
    const value = Number(sample[3]);
    if (link === undefined || !Number.isFinite(value)) continue;
    const lag = lags.get(link) ?? { records: 0, seconds: 0 };
    if (sample[1] === "tandem_link_lag_records") lag.records = value;
    else lag.seconds = value;
    lags.set(link, lag);
  }
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
