// What the operator's tools (the tandem command and the console) read and do, in one place.
export {
  assessLink,
  DEFAULT_THRESHOLDS,
  type LinkHealth,
  type LinkObservation,
  type Thresholds,
} from "./status/assess";
export { acknowledgeGaps, describeGap, openGaps } from "./status/gaps";
export { latestHeartbeats, type DeliveredHeartbeat } from "./status/heartbeats";
export { linkForwardedRecords, linkLagRecords } from "./status/link-lag";
export {
  collectStatus,
  formatStatus,
  type LinkReport,
  type SiteReport,
  type StatusReport,
} from "./status/status";
export { readTopicTail } from "./status/topic-tail";
export {
  compareCalls,
  compareUsers,
  differingBuckets,
  type Difference,
  type DifferenceCause,
} from "./verify/compare";
export { Expectations } from "./verify/expected";
export { verifySites, type VerifyReport } from "./verify/verify";
export { readDeadLetters, type DeadLetterView } from "./dlq";
export { requestCatchUp } from "./catch-up";
export { publishResolution, type ResolutionChoice } from "./resolve";
