/** Which topics of a site's cluster the materializer reads: its own event topics and every `<origin>.` copy. */
import { CALLS_TOPIC, USERS_TOPIC } from "@tandem/events";

const REMOTE_TOPIC = /^([a-z][a-z0-9-]{1,30})\.(calls\.completed|users\.changed)$/;

export function isMaterializedTopic(topic: string, site: string): boolean {
  if (topic === CALLS_TOPIC || topic === USERS_TOPIC) return true;
  const match = REMOTE_TOPIC.exec(topic);
  // A topic prefixed with the site itself would be its own events come back: bridges never write one.
  return match !== null && match[1] !== site;
}

/** The topics to subscribe to, sorted, from the cluster's topic list. */
export function materializedTopics(allTopics: readonly string[], site: string): string[] {
  return allTopics.filter((topic) => isMaterializedTopic(topic, site)).sort();
}

export function sameTopics(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((topic, index) => topic === b[index]);
}
