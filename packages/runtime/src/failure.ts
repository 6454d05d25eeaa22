/**
 * Whether retrying can cure a failure, decided here for every service: a permanent failure goes to the
 * dead-letter queue or to the operator, a transient one is retried with backoff.
 */
export type FailureKind = "transient" | "permanent";

/** A failure that retrying gives again: bad input, a value a peer refuses whatever the timing. */
export class PermanentError extends Error {
  readonly failure: FailureKind = "permanent";
}

/**
 * PostgreSQL refusals that belong to the record being written rather than to the database's state: data
 * exceptions (class 22: a NUL byte in text, a date out of range, a number too large) and integrity
 * violations (class 23). Anything else (a lost connection, a restart, a deadlock, a full disk) may pass
 * on retry.
 */
const PERMANENT_SQLSTATE_CLASSES = ["22", "23"];

function sqlState(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && code.length === 5 ? code : undefined;
}

export function failureKind(error: unknown): FailureKind {
  if (!(error instanceof Error)) return "transient";
  if (error instanceof PermanentError) return "permanent";
  const state = sqlState(error);
  if (state !== undefined && PERMANENT_SQLSTATE_CLASSES.includes(state.slice(0, 2))) return "permanent";
  return "transient";
}

export const isPermanent = (error: unknown): error is Error => failureKind(error) === "permanent";

/** PostgreSQL refusals of a connection, of a server going away or short of resources. */
const UNAVAILABLE_SQLSTATE_CLASSES = ["08", "53", "57"];

/**
 * A peer that is not there (yet): what a one-off command waits for. Narrower than transient: a query the
 * server refuses for another reason (a missing table, a syntax error) is not waited for.
 */
export function isUnavailable(error: unknown): boolean {
  if (isPermanent(error)) return false;
  const state = error instanceof Error ? sqlState(error) : undefined;
  return state === undefined || UNAVAILABLE_SQLSTATE_CLASSES.includes(state.slice(0, 2));
}
