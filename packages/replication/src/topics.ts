import type { Stream } from "@tandem/config";
import { CALLS_TOPIC, isSiteId, USERS_TOPIC } from "@tandem/events";

/**
 * Topic naming across sites, after MirrorMaker 2's DefaultReplicationPolicy: an event that originated at
 * site `nyc` lives at every other site in `nyc.<topic>`. The prefix is always the origin, never the
 * site it came through, so `nyc.calls.completed` reaches a third site under the same name. The bridge,
 * the materializer and the CLI all read topic names through this module only.
 */

/** The local topic of each stream at every site. */
export const STREAM_TOPICS: Readonly<Record<Stream, string>> = {
  calls: CALLS_TOPIC,
  users: USERS_TOPIC,
};

const LOCAL_TOPICS: ReadonlyMap<string, Stream> = new Map(
  Object.entries(STREAM_TOPICS).map(([stream, topic]) => [topic, stream as Stream]),
);

export const INTERNAL_TOPIC_PREFIX = "tandem.";
/** Site ids cannot contain the separator, so the first one ends the origin prefix. */
const SEPARATOR = ".";

/** A topic written at this site by its own producers (`calls.completed`, `users.changed`). */
export function isLocalTopic(topic: string): boolean {
  return LOCAL_TOPICS.has(topic);
}

/** Tandem's own topics (`tandem.heartbeats`, `tandem.dlq`, state topics): never replicated. */
export function isInternalTopic(topic: string): boolean {
  return topic.startsWith(INTERNAL_TOPIC_PREFIX);
}

/** `remoteTopic("nyc", "calls.completed")` is `nyc.calls.completed`. */
export function remoteTopic(originSite: string, topic: string): string {
  if (!isSiteId(originSite) || originSite + SEPARATOR === INTERNAL_TOPIC_PREFIX) {
    throw new RangeError(`not a site id: ${JSON.stringify(originSite)}`);
  }
  if (!isLocalTopic(topic)) throw new RangeError(`not a replicated local topic: ${JSON.stringify(topic)}`);
  return `${originSite}${SEPARATOR}${topic}`;
}

/** The origin site of a remote topic (`nyc.calls.completed` -> `nyc`); undefined for any other topic. */
export function originOf(topic: string): string | undefined {
  return splitRemote(topic)?.origin;
}

/** The local topic a remote topic mirrors (`nyc.calls.completed` -> `calls.completed`); undefined otherwise. */
export function upstreamTopic(topic: string): string | undefined {
  return splitRemote(topic)?.upstream;
}

/** The local topic that a local or remote topic carries; undefined for internal and unknown topics. */
export function baseTopic(topic: string): string | undefined {
  return isLocalTopic(topic) ? topic : upstreamTopic(topic);
}

/** The stream a local or remote topic belongs to. */
export function streamOf(topic: string): Stream | undefined {
  const base = baseTopic(topic);
  return base === undefined ? undefined : LOCAL_TOPICS.get(base);
}

/**
 * Where a record read from `sourceTopic` goes at the target: `<origin>.<base topic>`, whichever site it
 * is read at, so A->B->C lands at C as `A.calls.completed`, never `B.A.calls.completed`.
 */
export function targetTopic(origin: string, sourceTopic: string): string {
  const base = baseTopic(sourceTopic);
  if (base === undefined) throw new RangeError(`not a replicated topic: ${JSON.stringify(sourceTopic)}`);
  return remoteTopic(origin, base);
}

/**
 * The topics of `streams` that a site's cluster holds: its own local topics and every other origin's
 * copies. A topic prefixed with the site itself would be its own events come back: bridges never write one.
 * Sorted, from the cluster's topic list.
 */
export function topicsAtSite(
  existing: readonly string[],
  site: string,
  streams: readonly Stream[] = Object.keys(STREAM_TOPICS) as Stream[],
): string[] {
  return existing
    .filter((topic) => {
      const stream = streamOf(topic);
      return stream !== undefined && streams.includes(stream) && originOf(topic) !== site;
    })
    .sort();
}

/** Local topic names contain the separator too, so a topic is remote only if the rest is a local topic. */
function splitRemote(topic: string): { origin: string; upstream: string } | undefined {
  if (isInternalTopic(topic)) return undefined;
  const at = topic.indexOf(SEPARATOR);
  if (at < 0) return undefined;
  const origin = topic.slice(0, at);
  const upstream = topic.slice(at + SEPARATOR.length);
  return isSiteId(origin) && isLocalTopic(upstream) ? { origin, upstream } : undefined;
}
