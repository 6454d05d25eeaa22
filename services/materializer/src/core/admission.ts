import { audioObjectKey, type TandemEvent } from "@tandem/events";
import { isPermanent } from "@tandem/runtime";

/**
 * Why the materializer cannot take a decoded event (it is set aside, dead-lettered by the consumer), or
 * undefined when it can: a call must give an audio object key, which its row and its copy are stored by.
 * The consumer and a rebuild from the log both admit events by this one rule.
 */
export function inadmissibleReason(event: TandemEvent): string | undefined {
  if (event.kind !== "CallCompleted") return undefined;
  const { tenantId, startedAtMs, callId } = event.event;
  try {
    audioObjectKey(tenantId, startedAtMs, callId);
    return undefined;
  } catch (error) {
    if (isPermanent(error)) return error.message;
    throw error;
  }
}
