import type { Admin } from "kafkajs";
import type { LinkConfig } from "@tandem/config";
import { sourceTopics } from "@tandem/bridge";

/** The consumer group a bridge link commits its source offsets in (see the bridge's LinkWorker). */
export const linkGroupId = (link: Pick<LinkConfig, "from" | "to">) => `tandem-bridge.${link.from}-${link.to}`;

/**
 * Records at the link's source not yet forwarded: end offsets minus the group's committed offsets, over
 * the topics the link consumes (a partition never committed counts from its low offset).
 */
export async function linkLagRecords(sourceAdmin: Admin, link: LinkConfig): Promise<number> {
  const existing = await sourceAdmin.listTopics();
  const present = sourceTopics(link, existing).filter((topic) => existing.includes(topic));
  if (present.length === 0) return 0;
  const committed = await sourceAdmin.fetchOffsets({ groupId: linkGroupId(link), topics: present });
  let lag = 0;
  for (const topic of present) {
    const ends = await sourceAdmin.fetchTopicOffsets(topic);
    const partitions = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const end of ends) {
      const at = Number(partitions.find((p) => p.partition === end.partition)?.offset ?? "-1");
      lag += Math.max(0, Number(end.high) - (at < 0 ? Number(end.low) : at));
    }
  }
  return lag;
}
