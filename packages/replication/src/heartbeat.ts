/**
 * Heartbeats, after MirrorMaker 2's: each link writes one to the source site's `tandem.heartbeats` at a
 * fixed interval and forwards its own to the target's `tandem.heartbeats` like any record, so the delay
 * through a link is known even when it carries no data.
 */
export const HEARTBEAT_FORWARDED_AT_HEADER = "tandem-heartbeat-forwarded-at";

export interface Heartbeat {
  link: string;
  emittedAtMs: number;
}

export function heartbeatMessage(link: string, now: Date): { key: string; value: string } {
  const heartbeat: Heartbeat = { link, emittedAtMs: now.getTime() };
  return { key: link, value: JSON.stringify(heartbeat) };
}

export function parseHeartbeat(message: { value: Buffer | null }): Heartbeat | undefined {
  try {
    const parsed = JSON.parse(message.value?.toString() ?? "") as Partial<Heartbeat>;
    if (typeof parsed.link === "string" && typeof parsed.emittedAtMs === "number") {
      return { link: parsed.link, emittedAtMs: parsed.emittedAtMs };
    }
  } catch {
    // Not a heartbeat: ignored like any foreign record on the topic.
  }
  return undefined;
}
