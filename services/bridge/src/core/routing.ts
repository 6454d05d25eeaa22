import type { LinkConfig } from "@tandem/config";
import { applyFilters } from "./filters";
import type { RelayPlan } from "@tandem/replication";
import {
  isInternalTopic,
  isLocalTopic,
  originOf,
  streamOf,
  STREAM_TOPICS,
  targetTopic,
} from "@tandem/replication";

/**
 * The routing facts a record carries in its `tandem-*` headers, decoded (field names as in
 * `TandemHeaders` of @tandem/events, whose parsed headers can be passed as they are). Every field but
 * `path` may be missing on a record written without Tandem headers.
 */
export interface RoutingHeaders {
  /** Site where the event originated. */
  origin?: string;
  /** Sites the event has been written to, in order, starting with the origin. */
  path: readonly string[];
  tenantId?: string;
  groupId?: string;
}

export type SkipReason =
  | "cycle"
  | "filtered-tenant"
  | "filtered-group"
  | "stream-not-replicated"
  | "internal-topic"
  | "relayed-elsewhere";

export type RouteDecision<H extends RoutingHeaders = RoutingHeaders> =
  | { action: "forward"; targetTopic: string; headers: H & { origin: string; path: string[] } }
  | { action: "skip"; reason: SkipReason };

export type RoutedLink = Pick<LinkConfig, "from" | "to" | "streams" | "filters">;

/**
 * Decides what the bridge of `link` does with one record read at `link.from` from `sourceTopic`, from
 * its headers alone (the value is never decoded here). A forwarded record's path gains the source site
 * (when it is not already there) and the target, so it never repeats a site and keeps its meaning
 * "sites written to".
 */
export function route<H extends RoutingHeaders>(
  link: RoutedLink,
  sourceTopic: string,
  headers: H,
  /** When given, an event is only forwarded by the link its plan chooses (one copy per site in a mesh). */
  relay?: RelayPlan,
): RouteDecision<H> {
  if (isInternalTopic(sourceTopic)) return { action: "skip", reason: "internal-topic" };
  const stream = streamOf(sourceTopic);
  if (stream === undefined || !link.streams.includes(stream))
    return { action: "skip", reason: "stream-not-replicated" };

  // Without an origin header the topic name still tells: a local topic holds this site's own events.
  const origin = headers.origin ?? (isLocalTopic(sourceTopic) ? link.from : originOf(sourceTopic));
  if (origin === undefined) return { action: "skip", reason: "stream-not-replicated" };
  if (origin === link.to || headers.path.includes(link.to)) return { action: "skip", reason: "cycle" };

  if (relay !== undefined && !relay.carries(origin, link.from, link.to, stream)) {
    return { action: "skip", reason: "relayed-elsewhere" };
  }

  const verdict = applyFilters(link.filters, headers.tenantId, headers.groupId);
  if (verdict !== "pass") return { action: "skip", reason: verdict };

  const path = headers.path.length > 0 ? [...headers.path] : [origin];
  if (path.at(-1) !== link.from) path.push(link.from);
  path.push(link.to);
  return {
    action: "forward",
    targetTopic: targetTopic(origin, sourceTopic),
    headers: { ...headers, origin, path },
  };
}

/**
 * The topics at `link.from` that the link consumes: the local topics of its streams (every site has
 * them) and, among the `existing` topic names, the remote topics of its streams from other origins,
 * which carry events on to further hops. Remote topics that originated at the target would only be
 * skipped as cycles, so they are left out.
 */
export function sourceTopics(
  link: Pick<LinkConfig, "from" | "to" | "streams">,
  existing: readonly string[],
): string[] {
  const local = link.streams.map((stream) => STREAM_TOPICS[stream]);
  const remote = existing.filter((topic) => {
    const origin = originOf(topic);
    const stream = streamOf(topic);
    return (
      origin !== undefined &&
      origin !== link.to &&
      origin !== link.from &&
      stream !== undefined &&
      link.streams.includes(stream)
    );
  });
  return [...local, ...[...new Set(remote)].sort()];
}
