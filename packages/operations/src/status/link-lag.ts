import type { Admin } from "kafkajs";
import type { LinkConfig, Stream } from "@tandem/config";
import { sourceTopics } from "@tandem/bridge";
import { groupCommittedRecords, groupLagRecords } from "@tandem/kafka";
import { bridgeGroupId } from "@tandem/replication";

/** Records at the link's source not yet forwarded, over the topics of the streams named (all by default). */
async function presentSourceTopics(sourceAdmin: Admin, link: LinkConfig, streams: readonly Stream[]) {
  const existing = await sourceAdmin.listTopics();
  return sourceTopics({ ...link, streams: [...streams] }, existing).filter((topic) =>
    existing.includes(topic),
  );
}

export async function linkLagRecords(
  sourceAdmin: Admin,
  link: LinkConfig,
  streams: readonly Stream[] = link.streams,
): Promise<number> {
  return groupLagRecords(
    sourceAdmin,
    bridgeGroupId(link),
    await presentSourceTopics(sourceAdmin, link, streams),
  );
}

/** Records the link has forwarded from its source since it started (its committed offsets), for a rate. */
export async function linkForwardedRecords(sourceAdmin: Admin, link: LinkConfig): Promise<number> {
  return groupCommittedRecords(
    sourceAdmin,
    bridgeGroupId(link),
    await presentSourceTopics(sourceAdmin, link, link.streams),
  );
}
