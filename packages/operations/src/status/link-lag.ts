import type { Admin } from "kafkajs";
import type { LinkConfig, Stream } from "@tandem/config";
import { sourceTopics } from "@tandem/bridge";
import { groupLagRecords } from "@tandem/kafka";
import { bridgeGroupId } from "@tandem/replication";

/** Records at the link's source not yet forwarded, over the topics of the streams named (all by default). */
export async function linkLagRecords(
  sourceAdmin: Admin,
  link: LinkConfig,
  streams: readonly Stream[] = link.streams,
): Promise<number> {
  const existing = await sourceAdmin.listTopics();
  const present = sourceTopics({ ...link, streams: [...streams] }, existing).filter((topic) =>
    existing.includes(topic),
  );
  return groupLagRecords(sourceAdmin, bridgeGroupId(link), present);
}
