import type { KafkaConfig, ObjectStoreConfig } from "@tandem/config";
import { registryAuthOf } from "@tandem/config";
import { CALLS_TOPIC, EventCodec, HybridLogicalClock, USERS_TOPIC } from "@tandem/events";
import { createKafka, ensureSiteTopics } from "@tandem/kafka";
import { openObjectStore } from "@tandem/object-store";
import { DEFAULT_BACKOFF, isPermanent, retryWithBackoff, type Logger } from "@tandem/runtime";
import { RecorderPublisher } from "../publisher";
import { CallGenerator, callAudio, type DurationOptions } from "./calls";
import { RateScheduler, runPaced, systemClock } from "./pacing";
import { createPopulation, type Population, type PopulationOptions } from "./population";
import { emptyCounters, statsOf, type Stats } from "./progress";
import { Random } from "./random";
import { UserChangeGenerator } from "./users";
import type { AudioFormat } from "./wav";

/** What the simulator needs of a site: a topology `SiteConfig` or a local stack's `SiteEndpoints` fit. */
export type RecorderSite = {
  kafka: KafkaConfig;
  registry: { url: string };
  objectStore: ObjectStoreConfig;
  retentionMs?: number;
} & ({ id: string } | { site: string });

export interface RecorderOptions {
  site: RecorderSite;
  /** Calls completed per second; 0 for none. */
  callsPerSecond: number;
  /** User changes per second; 0 for none. */
  userChangesPerSecond: number;
  /** Same seed, same tenants, users, calls, audio and user changes. */
  seed: string | number;
  durationSeconds?: number;
  maxCalls?: number;
  maxUserChanges?: number;
  minCallSeconds?: number;
  maxCallSeconds?: number;
  medianCallSeconds?: number;
  /** Calls published at once (default 4); user changes go one at a time, each based on the last. */
  concurrency?: number;
  audio?: AudioFormat;
  population?: PopulationOptions;
  logger: Logger;
  onProgress?: (stats: Stats) => void;
  progressIntervalMs?: number;
}

export interface RecorderRun {
  /** Stops starting calls and user changes, finishes those in flight, disconnects. */
  stop(): Promise<void>;
  /** The final stats once the run has ended (limits reached, duration elapsed, or stopped). */
  done: Promise<Stats>;
}

function checkOptions(options: RecorderOptions): void {
  const problems: string[] = [];
  const nonNegative = (name: keyof RecorderOptions) => {
    const value = options[name];
    if (value !== undefined && !(typeof value === "number" && Number.isFinite(value) && value >= 0)) {
      problems.push(`${name} must be a number >= 0, got ${String(value)}`);
    }
  };
  for (const name of ["callsPerSecond", "userChangesPerSecond", "durationSeconds"] as const)
    nonNegative(name);
  for (const name of ["maxCalls", "maxUserChanges"] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
      problems.push(`${name} must be an integer >= 0, got ${String(value)}`);
    }
  }
  if (options.callsPerSecond === 0 && options.userChangesPerSecond === 0) {
    problems.push("callsPerSecond and userChangesPerSecond are both 0: nothing to do");
  }
  const concurrency = options.concurrency ?? 4;
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
    problems.push(`concurrency must be an integer >= 1, got ${concurrency}`);
  }
  const min = options.minCallSeconds ?? 5;
  const max = options.maxCallSeconds ?? 1200;
  if (!(min > 0 && max >= min)) {
    problems.push(`call durations need 0 < minCallSeconds (${min}) <= maxCallSeconds (${max})`);
  }
  if (problems.length > 0) throw new RangeError(`invalid recorder options: ${problems.join("; ")}`);
}

/**
 * Plays a site's call recorders: publishes generated calls (with their audio) and user changes through
 * the RecorderPublisher at the given rates. The run ends on `stop()`, after `durationSeconds`, or once
 * every stream given a limit (`maxCalls`, `maxUserChanges`) has reached it. Invalid options throw.
 */
export function runRecorder(options: RecorderOptions): RecorderRun {
  checkOptions(options);
  const stopping = new AbortController();
  const done = run(options, stopping.signal);
  return {
    done,
    stop: async () => {
      stopping.abort();
      await done.then(
        () => undefined,
        () => undefined,
      );
    },
  };
}

/** The tenants, groups and users a run with this seed plays: to find its calls and users afterwards. */
export function recorderPopulation(seed: string | number, options?: PopulationOptions): Population {
  return createPopulation(new Random(String(seed)).fork("population"), options);
}

async function run(options: RecorderOptions, stopSignal: AbortSignal): Promise<Stats> {
  const siteId = "id" in options.site ? options.site.id : options.site.site;
  const clock = systemClock;
  const logger = options.logger.child({ component: "recorder-simulator", site: siteId });
  const random = new Random(String(options.seed));
  const population = recorderPopulation(options.seed, options.population);
  const durations: DurationOptions = {
    minCallSeconds: options.minCallSeconds,
    maxCallSeconds: options.maxCallSeconds,
    medianCallSeconds: options.medianCallSeconds,
  };
  const calls = new CallGenerator(random.fork("calls"), population, {
    ...durations,
    recorderIds: [`${siteId}-recorder-1`, `${siteId}-recorder-2`],
    audio: options.audio,
  });
  const users = new UserChangeGenerator(random.fork("users"), population);

  const kafka = createKafka(options.site.kafka, `tandem-recorder-${siteId}`, logger);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureSiteTopics(admin, options.site.retentionMs);
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const store = openObjectStore(options.site.objectStore);
  const codec = new EventCodec({
    host: options.site.registry.url,
    auth: registryAuthOf(options.site.registry),
    clientId: `tandem-recorder-${siteId}`,
  });
  const counters = emptyCounters();
  const schedulers: RateScheduler[] = [];
  const startedAt = clock.now();
  const snapshot = (finished: boolean) => {
    counters.behind = schedulers.reduce((sum, s) => sum + s.skipped, 0);
    return statsOf(siteId, counters, clock.now() - startedAt, finished);
  };
  const progress = setInterval(
    () => options.onProgress?.(snapshot(false)),
    options.progressIntervalMs ?? 1000,
  );
  progress.unref();
  const ending = new AbortController();
  const signal = AbortSignal.any([stopSignal, ending.signal]);

  try {
    await producer.connect();
    // Fail fast on a registry that refuses the schemas, before any audio is uploaded; one that is
    // unreachable (restarting, its database down) is waited for like any peer.
    await retryWithBackoff(() => Promise.all([codec.register(CALLS_TOPIC), codec.register(USERS_TOPIC)]), {
      signal: stopSignal,
      retryIf: (error) => !isPermanent(error),
      onRetry: (attempt, error, waitMs) =>
        logger.warn({ err: error, attempt, waitMs }, "schema registration failed, retrying"),
    });
    const publisher = new RecorderPublisher({
      site: siteId,
      producer,
      codec,
      store,
      clock: new HybridLogicalClock(() => clock.now()),
    });
    logger.info(
      {
        callsPerSecond: options.callsPerSecond,
        userChangesPerSecond: options.userChangesPerSecond,
        seed: options.seed,
        tenants: population.tenants.map((t) => t.id),
      },
      "recorder simulator started",
    );

    const publish = async <T>(what: string, action: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await retryWithBackoff(action, {
          policy: { ...DEFAULT_BACKOFF, maxMs: 30_000 },
          // A stop ends the retries, not an attempt in flight: that one finishes.
          signal: stopSignal,
          retryIf: (error) => !isPermanent(error),
          onRetry: (attempt, error, waitMs) => {
            counters.retries++;
            logger.warn({ err: error, attempt, waitMs }, `${what}: publish failed, retrying`);
          },
        });
      } catch (error) {
        counters.failed++;
        logger.error({ err: error }, `${what}: given up`);
        return undefined;
      }
    };

    const streams: Array<{ limited: boolean; run: Promise<number> }> = [];
    const addStream = (
      perSecond: number,
      limit: number | undefined,
      concurrency: number,
      task: () => Promise<void>,
    ) => {
      if (perSecond <= 0) return;
      const scheduler = new RateScheduler(perSecond, clock.now());
      schedulers.push(scheduler);
      streams.push({
        limited: limit !== undefined,
        run: runPaced({ scheduler, clock, signal, concurrency, limit, task }),
      });
    };
    addStream(options.callsPerSecond, options.maxCalls, options.concurrency ?? 4, async () => {
      const call = calls.next(clock.now());
      const event = await publish(`call ${call.metadata.callId}`, () =>
        publisher.publishCallCompleted(call.metadata, callAudio(call)),
      );
      if (event === undefined) return;
      counters.calls++;
      counters.audioBytes += event.audio?.sizeBytes ?? 0;
    });
    addStream(options.userChangesPerSecond, options.maxUserChanges, 1, async () => {
      const edit = users.next();
      const event = await publish(`user ${edit.userId}`, () => publisher.publishUserChanged(edit));
      if (event === undefined) return;
      users.acknowledge(event);
      counters.userChanges++;
    });
    const end = () => ending.abort();
    const limited = streams.filter((s) => s.limited);
    if (limited.length > 0) void Promise.all(limited.map((s) => s.run)).then(end, end);
    if (options.durationSeconds !== undefined) {
      void clock.sleep(options.durationSeconds * 1000, signal).then(end);
    }
    // One stream failing ends the other too, and the producer is only closed once both have ended.
    const results = await Promise.allSettled(
      streams.map((s) =>
        s.run.catch((error: unknown) => {
          end();
          throw error;
        }),
      ),
    );
    const failure = results.find((r) => r.status === "rejected");
    if (failure !== undefined) throw failure.reason;
  } finally {
    ending.abort();
    clearInterval(progress);
    await producer.disconnect().catch((error: unknown) => logger.warn({ err: error }, "disconnect failed"));
    store.close();
  }
  const stats = snapshot(true);
  options.onProgress?.(stats);
  logger.info({ stats }, "recorder simulator stopped");
  return stats;
}
