export { runMaterializer, defaultConsumerOptions, DEFAULT_AUDIO_OPTIONS } from "./run";
export type { Materializer, MaterializerOptions } from "./run";
export type { ConsumerOptions } from "./consumer/consumer";
export type { TransferWorkerOptions } from "./audio/worker";
export { listConflicts, resolveConflict, type ConflictRow } from "./conflicts";
export { migrate } from "./db/migrate";
export { createPool } from "./db/pool";
export { REGISTER_NAMES } from "./core/users";
// The apply path itself, for tools that rebuild a site's database from the log (tandem replay --rebuild).
export { copyAudio } from "./audio/copy";
export type { SourcedEvent } from "./core/batch";
export { applyEvents } from "./db/apply";
export { failureReason } from "./core/transfer";
export { markPresent, pendingTransfers } from "./db/transfers";
