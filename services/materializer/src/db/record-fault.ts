/**
 * Which PostgreSQL errors belong to the record being written rather than to the database's state: data
 * exceptions (class 22: a NUL byte in text, a date out of range, a number too large) and integrity
 * violations (class 23). Retrying such a record fails the same way forever; anything else (a lost
 * connection, a restart, a deadlock, a full disk) may pass on retry.
 */
const RECORD_FAULT_CLASSES = ["22", "23"];

export function isRecordFault(error: unknown): error is Error & { code: string } {
  if (!(error instanceof Error) || !("code" in error)) return false;
  const { code } = error as { code: unknown };
  return typeof code === "string" && code.length === 5 && RECORD_FAULT_CLASSES.includes(code.slice(0, 2));
}
