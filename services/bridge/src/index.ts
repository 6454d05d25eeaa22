export { runBridge, type BridgeOptions, type RunningBridge } from "./bridge";
export { LinkWorker, type LinkStatus } from "./link/link-worker";
export type { LinkState } from "./link/link-metrics";
export { route, sourceTopics } from "./core/routing";
export { TargetTopicSync } from "./link/topic-sync";
export { applyFilters } from "./core/filters";
export type { StreamScheduleStatus } from "./link/stream-gates";
