import { randomUUID } from "node:crypto";
import type { CallSummary } from "../../services/materializer/src/queries";

/** A call as a site's database summarizes it, first seen ten minutes before `now`, audio present. */
export function callSummary(now: Date, overrides: Partial<CallSummary> = {}): CallSummary {
  return {
    callId: randomUUID(),
    tenantId: randomUUID(),
    groupId: randomUUID(),
    originSite: "nyc",
    audioSha256: "a".repeat(64),
    audioState: "present",
    firstSeenAt: new Date(now.getTime() - 600_000),
    ...overrides,
  };
}
