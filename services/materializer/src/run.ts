import type { Topology, Tuning } from "@tandem/config";
import { registryAuthOf, tuningOf } from "@tandem/config";
import { EventCodec } from "@tandem/events";
import { createKafka, ensureSiteTopics } from "@tandem/kafka";
import { openObjectStore, type ObjectStore } from "@tandem/object-store";
import { audioHeldOrigins, materializerClientId, materializerGroupId } from "@tandem/replication";
import { startOpsServer, type Logger, retryWithBackoff } from "@tandem/runtime";
import { audioPace } from "./audio/pace";
import { startTransferWorkers, type TransferWorkerOptions } from "./audio/worker";
import { startEventConsumer, type ConsumerOptions } from "./consumer/consumer";
import { migrate } from "./db/migrate";
import { createPool } from "./db/pool";
import { createMetrics } from "./metrics";

export interface MaterializerOptions {
  consumer?: Partial<ConsumerOptions>;
  audio?: Partial<TransferWorkerOptions>;
}

export interface Materializer {
  /** Resolves once the consumer has joined its group. */
  readonly joined: Promise<void>;
  /** Port of the ops server (`/metrics`, `/healthz`), when one was started. */
  readonly metricsPort: number | undefined;
  /** Finishes the batch in flight and the audio copies in progress, commits, disconnects. */
  stop(): Promise<void>;
}

function tunedConsumerOptions(siteId: string, tuning: Tuning["materializer"]): ConsumerOptions {
  return {
    groupId: materializerGroupId(siteId),
    fromBeginning: true,
    topicRefreshMs: tuning.topicRefreshMs,
    partitionsConsumedConcurrently: tuning.partitionsConcurrently,
    sessionTimeoutMs: tuning.sessionTimeoutMs,
    heartbeatIntervalMs: tuning.heartbeatIntervalMs,
    retryInitialMs: tuning.retry.initialMs,
    retryMaxMs: tuning.retry.maxMs,
  };
}

function tunedAudioOptions(tuning: Tuning["audio"]): TransferWorkerOptions {
  return {
    maxAttempts: tuning.attempts,
    initialBackoffMs: tuning.retry.initialMs,
    maxBackoffMs: tuning.retry.maxMs,
    concurrency: tuning.concurrency,
    leaseMs: tuning.leaseMs,
    pollMs: tuning.pollMs,
  };
}

/**
 * One site's materializer: migrates the database, consumes the site's event topics into it, and copies
 * pending audio into the site's store.
 */
export async function runMaterializer(input: {
  topology: Topology;
  siteId: string;
  logger: Logger;
  metricsPort?: number;
  options?: MaterializerOptions;
  /** The clock link schedules are read with; injectable so that tests can move time. */
  now?: () => Date;
}): Promise<Materializer> {
  const { topology, siteId } = input;
  const site = topology.sites.find((s) => s.id === siteId);
  if (site === undefined) throw new Error(`site ${siteId} is not in the topology`);
  const logger = input.logger.child({ site: siteId });
  const tuning = tuningOf(topology);
  const consumerOptions = {
    ...tunedConsumerOptions(siteId, tuning.materializer),
    ...input.options?.consumer,
  };
  const now = input.now ?? (() => new Date());
  const audioOptions = {
    ...tunedAudioOptions(tuning.audio),
    heldOrigins: () => audioHeldOrigins(topology.links, siteId, now()),
    ...input.options?.audio,
  };

  const pool = createPool(
    site.postgres,
    audioOptions.concurrency + consumerOptions.partitionsConsumedConcurrently + 2,
  );
  // A peer that is down at start is waited for, as during a run: the process does not exit for it.
  const untilUp = <T>(what: string, action: () => Promise<T>) =>
    retryWithBackoff(action, {
      onRetry: (attempt, error) =>
        logger.warn({ err: error, attempt }, `${what} unreachable at start, retrying`),
    });
  const applied = await untilUp("PostgreSQL", () => migrate(pool));
  if (applied.length > 0) logger.info({ migrations: applied }, "database migrated");

  const kafka = createKafka(site.kafka, materializerClientId(siteId), logger);
  await untilUp("Kafka", async () => {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await ensureSiteTopics(admin, site.retentionMs);
    } finally {
      await admin.disconnect().catch(() => {});
    }
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await untilUp("Kafka", () => producer.connect());

  const codec = new EventCodec({
    host: site.registry.url,
    auth: registryAuthOf(site.registry),
    clientId: materializerClientId(siteId),
  });
  const stores = new Map<string, ObjectStore>(
    topology.sites.map((s) => [s.id, openObjectStore(s.objectStore)]),
  );
  const metrics = createMetrics(siteId, pool);
  const pace = audioPace(topology, siteId, kafka, now);
  const workers = startTransferWorkers({
    site: siteId,
    pool,
    stores,
    producer,
    metrics,
    logger,
    options: { throttleFor: (origin) => pace.throttleFor(origin), ...audioOptions },
  });
  const consumer = await startEventConsumer({
    kafka,
    site: siteId,
    codec,
    pool,
    producer,
    policy: site.mergePolicy,
    metrics,
    logger,
    options: consumerOptions,
    onCallsInserted: () => workers.wake(),
  });
  const ops =
    input.metricsPort === undefined
      ? undefined
      : await startOpsServer({
          port: input.metricsPort,
          metrics: metrics.registry,
          health: () => {
            const state = consumer.health();
            return { healthy: state.joined && state.retrying === undefined, details: state };
          },
        });

  let stopped: Promise<void> | undefined;
  return {
    joined: consumer.joined,
    metricsPort: ops?.port,
    stop() {
      stopped ??= (async () => {
        await consumer.stop();
        await workers.stop();
        await pace.stop();
        await producer.disconnect();
        await ops?.close();
        for (const store of stores.values()) store.close();
        await pool.end();
        logger.info("materializer stopped");
      })();
      return stopped;
    },
  };
}
