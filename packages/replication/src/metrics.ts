/**
 * The names of the figures Tandem's services expose on `/metrics`, and a reader of the Prometheus text
 * format for the tools (status, soak, tests) that read them back.
 */

/** Per link, labelled `link` (`nyc->lon`). */
export const LINK_METRICS = {
  recordsForwarded: "tandem_link_records_forwarded_total",
  bytesForwarded: "tandem_link_bytes_forwarded_total",
  recordsSkipped: "tandem_link_records_skipped_total",
  alreadyDelivered: "tandem_link_records_already_delivered_total",
  duplicatesSeen: "tandem_link_duplicates_seen_total",
  errors: "tandem_link_errors_total",
  deadLettered: "tandem_link_dlq_records_total",
  lagRecords: "tandem_link_lag_records",
  lagSeconds: "tandem_link_lag_seconds",
  recordAge: "tandem_link_record_age_seconds",
  heartbeatLatency: "tandem_link_heartbeat_latency_seconds",
  state: "tandem_link_state",
  recordsLost: "tandem_records_lost_total",
} as const;

/** Per site, labelled `site`. */
export const MATERIALIZER_METRICS = {
  eventsApplied: "tandem_materializer_events_applied_total",
  batchSeconds: "tandem_materializer_batch_duration_seconds",
  batchRetries: "tandem_materializer_batch_retries_total",
  dlqRecords: "tandem_materializer_dlq_records_total",
  audioBytes: "tandem_materializer_audio_bytes_copied_total",
  audioTransfers: "tandem_materializer_audio_transfers_total",
  audioPending: "tandem_materializer_audio_transfers_pending",
  conflictsOpen: "tandem_materializer_conflicts_open",
  recordsLost: "tandem_records_lost_total",
} as const;

export interface MetricSample {
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of one metric in a Prometheus text exposition; comments and other metrics are skipped. */
export function metricSamples(exposition: string, name: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of exposition.split("\n")) {
    const match = SAMPLE_LINE.exec(line);
    if (match === null || match[1] !== name) continue;
    const value = Number(match[3]);
    if (!Number.isFinite(value)) continue;
    const labels: Record<string, string> = {};
    for (const [, label, raw] of (match[2] ?? "").matchAll(LABEL)) {
      labels[label!] = raw!.replace(/\\(.)/g, (_, escaped: string) => (escaped === "n" ? "\n" : escaped));
    }
    samples.push({ labels, value });
  }
  return samples;
}
