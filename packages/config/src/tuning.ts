import ms from "ms";
import { z } from "zod";
import type { Tuning } from "./types";

/**
 * The `tuning:` section: runtime figures of the services, each optional, each defaulting to the value the
 * services were measured with. README's tuning table lists them; this is the only place they are set.
 */
export const DEFAULT_TUNING: Tuning = {
  bridge: {
    heartbeatIntervalMs: 5_000,
    topicRefreshMs: 30_000,
    scheduleCheckMs: 1_000,
    fetchMaxWaitMs: 200,
    // kafkajs's default. A long link caught up 43% faster with 4 MiB (bench/bridge-vs-mm2.ts --wan); it is a
    // setting because a consumer holds up to two fetches per partition. (The exactly-once duplicates once seen
    // with 4 MiB are explained by a bug fixed since, whatever the size: a new writer read its position before
    // it fenced the previous owner.)
    fetchBytesPerPartition: 1024 * 1024,
    sessionTimeoutMs: 30_000,
    partitionsConcurrently: 3,
    // kafkajs keeps one fetch in flight per consumer: across a long link more consumers are more fetches in
    // flight, at the cost of a group member each (bench/bridge-vs-mm2.ts --wan).
    consumersPerLink: 1,
    // Below the target's default `max.message.bytes` (1 MiB): a fetched source batch, whose path headers
    // grow by a site at each hop, is sent as several record batches rather than refused whole.
    maxRequestBytes: 512 * 1024,
    // A link back after an outage waits at most this for its next attempt: with 60 s, a 10-minute cut's
    // backlog waited up to a minute after the heal, with 5 s about 5 s (bench/wan.ts). Kafka's own clients
    // wait at most a second between attempts (reconnect.backoff.max.ms).
    retry: { initialMs: 500, maxMs: 1_000 },
  },
  materializer: {
    topicRefreshMs: 30_000,
    sessionTimeoutMs: 30_000,
    heartbeatIntervalMs: 3_000,
    partitionsConcurrently: 3,
    retry: { initialMs: 500, maxMs: 10_000 },
  },
  audio: {
    // Each copy waits a round trip to the origin's store: across 80 ms, 8 in flight keep 20 calls/s of
    // 200 kB flowing where 2 could not (bench/wan.ts).
    concurrency: 8,
    // A transfer held by a process that crashed mid-copy is claimed again after this; copies re-put the same bytes.
    leaseMs: 2 * 60_000,
    pollMs: 2_000,
    attempts: 12,
    retry: { initialMs: 2_000, maxMs: 10 * 60_000 },
  },
};

const DURATION_FORM = "expected a duration such as 200ms, 30s, 2m or 1h";

const duration = z
  .string({ error: DURATION_FORM })
  .transform((text, ctx) => {
    const value = ms(text as ms.StringValue);
    if (typeof value !== "number" || !Number.isFinite(value)) {
      ctx.addIssue({ code: "custom", message: DURATION_FORM });
      return z.NEVER;
    }
    return value;
  })
  .refine((value) => value >= 1, { error: "must be at least 1ms" });

const count = (max: number) =>
  z
    .number({ error: `expected a whole number from 1 to ${max}` })
    .int({ error: `expected a whole number from 1 to ${max}` })
    .min(1, { error: `expected a whole number from 1 to ${max}` })
    .max(max, { error: `expected a whole number from 1 to ${max}` });

const BYTES_FORM = "expected a number of bytes from 16384 to 104857600";
const bytes = z
  .number({ error: BYTES_FORM })
  .int({ error: BYTES_FORM })
  .min(16_384, { error: BYTES_FORM })
  .max(100 * 1024 * 1024, { error: BYTES_FORM });

const retry = (defaults: Tuning["bridge"]["retry"]) =>
  z
    .strictObject({ initial: duration.optional(), max: duration.optional() })
    .transform((r) => ({ initialMs: r.initial ?? defaults.initialMs, maxMs: r.max ?? defaults.maxMs }))
    .superRefine((r, ctx) => {
      if (r.initialMs > r.maxMs) {
        ctx.addIssue({ code: "custom", path: ["initial"], message: "is longer than max" });
      }
    })
    .default(defaults);

/** A consumer's heartbeats must come well within its session, or the group evicts a live member. */
function heartbeatWithinSession(
  value: { heartbeatIntervalMs: number; sessionTimeoutMs: number },
  ctx: z.RefinementCtx,
): void {
  if (value.heartbeatIntervalMs * 3 > value.sessionTimeoutMs) {
    ctx.addIssue({
      code: "custom",
      path: ["heartbeatInterval"],
      message: `must be at most a third of sessionTimeout (${ms(value.sessionTimeoutMs)})`,
    });
  }
}

const bridgeDefaults = DEFAULT_TUNING.bridge;
const bridge = z
  .strictObject({
    heartbeatInterval: duration.default(bridgeDefaults.heartbeatIntervalMs),
    topicRefresh: duration.default(bridgeDefaults.topicRefreshMs),
    scheduleCheck: duration.default(bridgeDefaults.scheduleCheckMs),
    fetchMaxWait: duration.default(bridgeDefaults.fetchMaxWaitMs),
    sessionTimeout: duration.default(bridgeDefaults.sessionTimeoutMs),
    partitionsConcurrently: count(64).default(bridgeDefaults.partitionsConcurrently),
    consumersPerLink: count(16).default(bridgeDefaults.consumersPerLink),
    fetchBytesPerPartition: bytes.default(bridgeDefaults.fetchBytesPerPartition),
    maxRequestBytes: bytes.default(bridgeDefaults.maxRequestBytes),
    retry: retry(bridgeDefaults.retry),
  })
  .transform((b): Tuning["bridge"] => ({
    heartbeatIntervalMs: b.heartbeatInterval,
    topicRefreshMs: b.topicRefresh,
    scheduleCheckMs: b.scheduleCheck,
    fetchMaxWaitMs: b.fetchMaxWait,
    fetchBytesPerPartition: b.fetchBytesPerPartition,
    sessionTimeoutMs: b.sessionTimeout,
    partitionsConcurrently: b.partitionsConcurrently,
    consumersPerLink: b.consumersPerLink,
    maxRequestBytes: b.maxRequestBytes,
    retry: b.retry,
  }));

const materializerDefaults = DEFAULT_TUNING.materializer;
const materializer = z
  .strictObject({
    topicRefresh: duration.default(materializerDefaults.topicRefreshMs),
    sessionTimeout: duration.default(materializerDefaults.sessionTimeoutMs),
    heartbeatInterval: duration.default(materializerDefaults.heartbeatIntervalMs),
    partitionsConcurrently: count(64).default(materializerDefaults.partitionsConcurrently),
    retry: retry(materializerDefaults.retry),
  })
  .transform((m): Tuning["materializer"] => ({
    topicRefreshMs: m.topicRefresh,
    sessionTimeoutMs: m.sessionTimeout,
    heartbeatIntervalMs: m.heartbeatInterval,
    partitionsConcurrently: m.partitionsConcurrently,
    retry: m.retry,
  }))
  .superRefine(heartbeatWithinSession);

const audioDefaults = DEFAULT_TUNING.audio;
const audio = z
  .strictObject({
    concurrency: count(64).default(audioDefaults.concurrency),
    lease: duration.default(audioDefaults.leaseMs),
    poll: duration.default(audioDefaults.pollMs),
    attempts: count(1000).default(audioDefaults.attempts),
    retry: retry(audioDefaults.retry),
  })
  .transform((a): Tuning["audio"] => ({
    concurrency: a.concurrency,
    leaseMs: a.lease,
    pollMs: a.poll,
    attempts: a.attempts,
    retry: a.retry,
  }));

export const tuningSchema: z.ZodType<Tuning, unknown> = z
  .strictObject({
    bridge: bridge.default(bridgeDefaults),
    materializer: materializer.default(materializerDefaults),
    audio: audio.default(audioDefaults),
  })
  .default(DEFAULT_TUNING);

/** A topology built in code may leave `tuning` out; parsed ones always carry it. */
export const tuningOf = (topology: { tuning?: Tuning }): Tuning => topology.tuning ?? DEFAULT_TUNING;
