export { parseTopology } from "./parse";
export type { ParseOptions } from "./parse";
export { loadTopology } from "./load";
export { redactedConfig, REDACTED } from "./redact";
export { TopologyError } from "./problems";
export type { Problem } from "./problems";
export type { Env } from "./env";
export { STREAMS, DELIVERY_MODES, SASL_MECHANISMS, WEEKDAYS, streamSchedule } from "./types";
export type {
  AllowDeny,
  BandwidthCap,
  DeliveryMode,
  DirectoryStoreConfig,
  KafkaConfig,
  KafkaSasl,
  KafkaSsl,
  LinkConfig,
  LinkFilters,
  LinkSchedule,
  PeriodicSchedule,
  Weekday,
  MergePolicy,
  ObjectStoreConfig,
  PostgresConfig,
  RegistryConfig,
  S3StoreConfig,
  SaslMechanism,
  SiteAddresses,
  SiteConfig,
  Stream,
  TimeWindow,
  Topology,
  Tuning,
  RetryTuning,
} from "./types";
export { registryAuthOf } from "./registry-auth";
export { topologySeenFrom } from "./seen-from";
export { DEFAULT_TUNING, tuningOf } from "./tuning";
export { daysLabel, hhmmMinutes, windowSpans, DAY_MINUTES, WEEK_MINUTES } from "./week";
