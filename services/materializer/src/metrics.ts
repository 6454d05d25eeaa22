import type pg from "pg";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export type MaterializerMetrics = ReturnType<typeof createMetrics>;

/** The materializer's metrics in their own registry; gauges of database state are read at scrape time. */
export function createMetrics(site: string, pool: pg.Pool) {
  const registry = new Registry();
  registry.setDefaultLabels({ site });
  const countWhere = async (gauge: Gauge, sql: string) => {
    try {
      const { rows } = await pool.query<{ count: number }>(sql);
      gauge.set(Number(rows[0]?.count ?? 0));
    } catch {
      // The database is down: the gauge keeps its last value, the batch retries say why.
    }
  };
  return {
    registry,
    eventsApplied: new Counter({
      name: "tandem_materializer_events_applied_total",
      help: "Events applied to the database, per source topic",
      labelNames: ["topic"],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: "tandem_materializer_batch_duration_seconds",
      help: "Time from a batch's arrival to its offsets committed",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    batchRetries: new Counter({
      name: "tandem_materializer_batch_retries_total",
      help: "Batches retried after a transient error (database or schema registry unreachable)",
      registers: [registry],
    }),
    dlqRecords: new Counter({
      name: "tandem_materializer_dlq_records_total",
      help: "Records sent to tandem.dlq",
      labelNames: ["kind"],
      registers: [registry],
    }),
    audioBytes: new Counter({
      name: "tandem_materializer_audio_bytes_copied_total",
      help: "Audio bytes copied into the site's store",
      registers: [registry],
    }),
    audioTransfers: new Counter({
      name: "tandem_materializer_audio_transfers_total",
      help: "Audio transfer attempts by result (present, retry, failed)",
      labelNames: ["result"],
      registers: [registry],
    }),
    audioPending: new Gauge({
      name: "tandem_materializer_audio_transfers_pending",
      help: "Calls whose audio is not yet in the site's store",
      registers: [registry],
      async collect() {
        await countWhere(this, "SELECT count(*) AS count FROM calls WHERE audio_state = 'pending'");
      },
    }),
    conflictsOpen: new Gauge({
      name: "tandem_materializer_conflicts_open",
      help: "User conflicts waiting for an administrator (manual policy)",
      registers: [registry],
      async collect() {
        await countWhere(this, "SELECT count(*) AS count FROM conflicts WHERE status = 'open'");
      },
    }),
  };
}
