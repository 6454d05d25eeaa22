import type { Admin } from "kafkajs";
import type { LinkConfig } from "@tandem/config";
import { sourceTopics } from "@tandem/bridge";
import { groupLagRecords } from "@tandem/kafka";
import { bridgeGroupId } from "@tandem/replication";

/** Records at the link's source not yet forwarded, over the topics the link consumes. */
export async function linkLagRecords(sourceAdmin: Admin, link: LinkConfig): Promise<number> {
  const existing = await sourceAdmin.listTopics();
  const present = sourceTopics(link, existing).filter((topic) => existing.includes(topic));
  return groupLagRecords(sourceAdmin, bridgeGroupId(link), present);
}
