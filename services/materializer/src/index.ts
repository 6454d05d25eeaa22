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
export { planBatch, type DecodedRecord } from "./core/batch";
export { failureReason } from "./core/transfer";
export { insertCalls } from "./db/calls";
export { inTransaction } from "./db/pool";
export { markPresent, type ClaimedTransfer } from "./db/transfers";
export { applyUserEvents } from "./db/users";
