export { runMaterializer } from "./run";
export type { Materializer, MaterializerOptions } from "./run";
export type { ConsumerOptions } from "./consumer/consumer";
export type { TransferWorkerOptions } from "./audio/worker";
export { listConflicts, resolveConflict, type ConflictRow } from "./conflicts";
export { createPool } from "./db/pool";
export { REGISTER_NAMES, emptyUserState, redeliveries, applyUserChanged, type UserState } from "./core/users";
// The read side of the site's database, for the operator tools.
export {
  BUCKETS,
  audioBacklog,
  audioStates,
  callBucketDigests,
  callEventsById,
  callsAwaitingOwnAudio,
  callsById,
  callsInBuckets,
  countCalls,
  countOpenConflicts,
  countUsers,
  deadLetteredCalls,
  siteTotals,
  openConflictsDigest,
  userBucketDigests,
  userStatesById,
  usersInBuckets,
  type AudioBacklog,
  type CallSummary,
  type SiteTotals,
  type TenantScope,
  type UserSummary,
} from "./queries";
// What `tandem repair` records at a site when it dead-letters a call whose audio no site holds.
export { recordDlq } from "./db/transfers";
export type { AudioState } from "./core/batch";
// The write path for a database rebuilt from the log (tandem replay --rebuild).
export type { SourcedEvent } from "./core/batch";
export { SiteRebuild, type RebuildAudioOutcome } from "./rebuild";
