import { PermanentError } from "@tandem/runtime";
import { isUuid } from "./ids";

export class AudioKeyError extends PermanentError {
  constructor(
    readonly field: "tenantId" | "startedAtMs" | "callId",
    problem: string,
  ) {
    super(`cannot build an audio object key: ${field} ${problem}`);
    this.name = "AudioKeyError";
  }
}

/** Latest instant whose UTC year still has four digits, so every key has the same layout. */
const MAX_KEY_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Object key of a call's audio in a site's store: `tenants/<tenant>/<yyyy>/<mm>/<dd>/<callId>.wav`,
 * dated by the call's start in UTC. Ids must be canonical UUIDs, which contain neither `/` nor `.`, so a
 * key can never leave its tenant's prefix.
 */
export function audioObjectKey(tenantId: string, startedAtMs: number, callId: string): string {
  if (!isUuid(tenantId)) {
    throw new AudioKeyError("tenantId", `${JSON.stringify(tenantId)} is not a canonical UUID`);
  }
  if (!isUuid(callId)) {
    throw new AudioKeyError("callId", `${JSON.stringify(callId)} is not a canonical UUID`);
  }
  if (!Number.isSafeInteger(startedAtMs) || startedAtMs < 0 || startedAtMs > MAX_KEY_MS) {
    throw new AudioKeyError(
      "startedAtMs",
      `${String(startedAtMs)} is not a time between 1970 and 9999 in ms`,
    );
  }
  const day = new Date(startedAtMs);
  const yyyy = String(day.getUTCFullYear()).padStart(4, "0");
  const mm = String(day.getUTCMonth() + 1).padStart(2, "0");
  const dd = String(day.getUTCDate()).padStart(2, "0");
  return `tenants/${tenantId}/${yyyy}/${mm}/${dd}/${callId}.wav`;
}
