export { runMaterializer } from "./run";
export type { Materializer, MaterializerOptions } from "./run";
export type { ConsumerOptions } from "./consumer/consumer";
export type { TransferWorkerOptions } from "./audio/worker";
export { listConflicts, resolveConflict, type ConflictRow } from "./conflicts";
export { createPool } from "./db/pool";
export { REGISTER_NAMES } from "./core/users";
// The read side of the site's database, for the operator tools.
export {
  BUCKETS,
  callBucketDigests,
  callsInBuckets,
  countCalls,
  countOpenConflicts,
  countUsers,
  siteTotals,
  userBucketDigests,
  usersInBuckets,
  type CallSummary,
  type SiteTotals,
  type TenantScope,
  type UserSummary,
} from "./queries";
// The write path for a database rebuilt from the log (tandem replay --rebuild).
export type { SourcedEvent } from "./core/batch";
export { SiteRebuild, type RebuildAudioOutcome } from "./rebuild";
