import type pg from "pg";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { MATERIALIZER_METRICS } from "@tandem/replication";

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
      name: MATERIALIZER_METRICS.eventsApplied,
      help: "Events applied to the database, per source topic",
      labelNames: ["topic"],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: MATERIALIZER_METRICS.batchSeconds,
      help: "Time from a batch's arrival to its offsets committed",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    batchRetries: new Counter({
      name: MATERIALIZER_METRICS.batchRetries,
      help: "Batches retried after a transient error (database or schema registry unreachable)",
      registers: [registry],
    }),
    dlqRecords: new Counter({
      name: MATERIALIZER_METRICS.dlqRecords,
      help: "Records sent to tandem.dlq",
      labelNames: ["kind"],
      registers: [registry],
    }),
    audioBytes: new Counter({
      name: MATERIALIZER_METRICS.audioBytes,
      help: "Audio bytes copied into the site's store",
      registers: [registry],
    }),
    audioTransfers: new Counter({
      name: MATERIALIZER_METRICS.audioTransfers,
      help: "Audio transfer attempts by result (present, retry, failed)",
      labelNames: ["result"],
      registers: [registry],
    }),
    audioPending: new Gauge({
      name: MATERIALIZER_METRICS.audioPending,
      help: "Calls whose audio is not yet in the site's store",
      registers: [registry],
      async collect() {
        await countWhere(this, "SELECT count(*) AS count FROM calls WHERE audio_state = 'pending'");
      },
    }),
    recordsLost: new Counter({
      name: MATERIALIZER_METRICS.recordsLost,
      help: "Records that retention deleted at the site before the materializer applied them",
      labelNames: ["topic", "partition"],
      registers: [registry],
    }),
    conflictsOpen: new Gauge({
      name: MATERIALIZER_METRICS.conflictsOpen,
      help: "User conflicts waiting for an administrator (manual policy)",
      registers: [registry],
      async collect() {
        await countWhere(this, "SELECT count(*) AS count FROM conflicts WHERE status = 'open'");
      },
    }),
  };
}
