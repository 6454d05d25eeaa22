export type LinkHealth = "ok" | "behind" | "down" | "paused" | "data-lost";

export interface LinkObservation {
  scheduleOpen: boolean;
  /** Undefined when the source cluster could not be asked. */
  lagRecords: number | undefined;
  /** Age of the latest heartbeat delivered through the link; undefined when none ever arrived. */
  heartbeatAgeSeconds: number | undefined;
  /** Records retention deleted at the source before the link read them, not yet acknowledged. */
  recordsLost: number;
}

export interface Thresholds {
  maxLagRecords: number;
  maxLagSeconds: number;
  /** No heartbeat for this long on an open link means its bridge is not forwarding. */
  downAfterSeconds: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  maxLagRecords: 10_000,
  maxLagSeconds: 300,
  downAfterSeconds: 60,
};

/** How a link stands, from what can be observed of it in the clusters (pure, for monitoring exit codes). */
export function assessLink(
  observed: LinkObservation,
  thresholds: Thresholds,
): { health: LinkHealth; why: string } {
  if (observed.lagRecords === undefined) return { health: "down", why: "source cluster unreachable" };
  if (observed.recordsLost > 0) {
    return {
      health: "data-lost",
      why: `${observed.recordsLost} records deleted before it read them: tandem repair, then tandem gaps --ack`,
    };
  }
  if (!observed.scheduleOpen) return { health: "paused", why: "outside its schedule" };
  if (observed.heartbeatAgeSeconds === undefined)
    return { health: "down", why: "no heartbeat ever delivered" };
  if (observed.heartbeatAgeSeconds > thresholds.downAfterSeconds) {
    return { health: "down", why: `last heartbeat ${Math.round(observed.heartbeatAgeSeconds)}s ago` };
  }
  if (observed.lagRecords > thresholds.maxLagRecords) {
    return { health: "behind", why: `${observed.lagRecords} records behind` };
  }
  if (observed.heartbeatAgeSeconds > thresholds.maxLagSeconds) {
    return { health: "behind", why: `${Math.round(observed.heartbeatAgeSeconds)}s behind` };
  }
  return { health: "ok", why: "" };
}
