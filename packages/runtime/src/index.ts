export { createLogger, type Logger } from "./logger";
export { startOpsServer, type Health, type RouteHandler } from "./http";
export { onShutdown } from "./shutdown";
export { retryWithBackoff, type RetryOptions } from "./retry";
export { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff";
export { failureKind, isPermanent, isUnavailable, PermanentError, type FailureKind } from "./failure";
export { Throttle, TokenBucket } from "./rate-limit";
