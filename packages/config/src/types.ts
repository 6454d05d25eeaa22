/** The streams a link can replicate; each maps to one local topic per site. */
export const STREAMS = ["calls", "users"] as const;
export type Stream = (typeof STREAMS)[number];

export const DELIVERY_MODES = ["at-least-once", "exactly-once"] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

export const SASL_MECHANISMS = ["scram-sha-256", "scram-sha-512", "plain"] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** TLS material as file paths; the Kafka adapter reads them. Relative paths are resolved against the topology file. */
export interface KafkaSsl {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
}

export interface KafkaSasl {
  mechanism: SaslMechanism;
  username: string;
  password: string;
}

export interface KafkaConfig {
  /** `host:port` bootstrap servers. */
  brokers: string[];
  /** `true` for TLS with the system trust store, or explicit TLS material. */
  ssl?: KafkaSsl | boolean;
  sasl?: KafkaSasl;
}

export interface RegistryConfig {
  url: string;
  username?: string;
  password?: string;
}

export type PostgresConfig =
  | { connectionString: string }
  | { host: string; port: number; database: string; user: string; password?: string };

export interface S3StoreConfig {
  kind: "s3";
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
}

export interface DirectoryStoreConfig {
  kind: "directory";
  path: string;
}

export type ObjectStoreConfig = S3StoreConfig | DirectoryStoreConfig;

/** How a site resolves concurrent edits of the same user. Every site must use the same policy to converge. */
export type MergePolicy = { kind: "lww" } | { kind: "priority"; siteOrder: string[] } | { kind: "manual" };

export interface SiteConfig {
  id: string;
  kafka: KafkaConfig;
  registry: RegistryConfig;
  postgres: PostgresConfig;
  objectStore: ObjectStoreConfig;
  mergePolicy: MergePolicy;
  /**
   * `retention.ms` of the event topics Tandem creates at this site: -1 (the default) keeps every record,
   * for the log is what links resume from and new sites are filled from.
   */
  retentionMs?: number;
  /**
   * Where other sites' services reach this site, when not at the addresses above (a WAN proxy, a NAT, a
   * private link): by the reaching site's id. `topologySeenFrom` applies it.
   */
  reachedFrom?: Record<string, SiteAddresses>;
}

/** The addresses of a site's servers as one other site reaches them; absent parts are the site's own. */
export interface SiteAddresses {
  kafka?: { brokers: string[] };
  registry?: { url: string };
  objectStore?: { endpoint: string };
}

/** Lower-case UUIDs. Absent `allow` admits everyone not denied; a present `allow` admits only its members. */
export interface AllowDeny {
  allow?: string[];
  deny: string[];
}

export interface LinkFilters {
  tenants: AllowDeny;
  groups: AllowDeny;
}

/** Days of the week in the order of JavaScript's `getUTCDay()`. */
export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * Local wall-clock times `HH:MM`; `end` before `start` means the window runs across midnight. `days`, when
 * given, are the days the window starts on (a Friday 22:00-06:00 window ends on Saturday morning).
 */
export interface TimeWindow {
  start: string;
  end: string;
  days?: Weekday[];
}

/**
 * A periodic schedule runs a catch-up at each tick and pauses again once caught up. Ticks follow the local
 * clock: every `everyMs` from each local midnight, or at the `at` times on `days` (every day without).
 */
export interface PeriodicSchedule {
  kind: "periodic";
  timeZone: string;
  everyMs?: number;
  at?: string[];
  days?: Weekday[];
}

export type LinkSchedule =
  | { kind: "continuous" }
  | { kind: "windows"; timeZone: string; windows: TimeWindow[] }
  | PeriodicSchedule
  | { kind: "manual" };

/**
 * The most a link may move per second towards its target, by records and by audio copies each, shared by
 * the instances that do it: `bytesPerSecond` outside the windows (no cap when absent), a window's inside.
 */
export interface BandwidthCap {
  timeZone: string;
  bytesPerSecond?: number;
  windows: Array<TimeWindow & { bytesPerSecond: number }>;
}

export interface LinkConfig {
  from: string;
  to: string;
  streams: Stream[];
  filters: LinkFilters;
  /** The schedule of every stream that `schedules` does not name. */
  schedule: LinkSchedule;
  /** Streams with a schedule of their own ("calls now, users at night"). */
  schedules?: Partial<Record<Stream, LinkSchedule>>;
  bandwidth?: BandwidthCap;
  delivery: DeliveryMode;
}

/** The schedule a stream of the link follows. */
export function streamSchedule(
  link: Pick<LinkConfig, "schedule" | "schedules">,
  stream: Stream,
): LinkSchedule {
  return link.schedules?.[stream] ?? link.schedule;
}

export interface RetryTuning {
  initialMs: number;
  maxMs: number;
}

/** Runtime figures of the services (see tuning.ts for their defaults and README's table). */
export interface Tuning {
  bridge: {
    heartbeatIntervalMs: number;
    topicRefreshMs: number;
    scheduleCheckMs: number;
    fetchMaxWaitMs: number;
    /** The most a source fetch returns of one partition: a long link needs more in each round trip. */
    fetchBytesPerPartition: number;
    sessionTimeoutMs: number;
    /** At-least-once links; an exactly-once link consumes one partition at a time. */
    partitionsConcurrently: number;
    /**
     * Consumers of an at-least-once link in one bridge process, members of its group each with a fetch in
     * flight (what `tasks.max` is to MirrorMaker 2); an exactly-once link runs one.
     */
    consumersPerLink: number;
    maxRequestBytes: number;
    retry: RetryTuning;
  };
  materializer: {
    topicRefreshMs: number;
    sessionTimeoutMs: number;
    heartbeatIntervalMs: number;
    partitionsConcurrently: number;
    retry: RetryTuning;
  };
  audio: {
    concurrency: number;
    leaseMs: number;
    pollMs: number;
    /** Attempts before the audio is marked failed and dead-lettered. */
    attempts: number;
    retry: RetryTuning;
  };
}

export interface Topology {
  sites: SiteConfig[];
  links: LinkConfig[];
  tuning?: Tuning;
}
