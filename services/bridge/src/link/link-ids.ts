import type { LinkConfig } from "@tandem/config";

/**
 * The names a link goes by in Kafka. The groups are the same at every instance of the link, so that the
 * instances share its partitions; the transactional id is each instance's own.
 */
export function linkIds(link: Pick<LinkConfig, "from" | "to">, instance: string) {
  const id = `${link.from}->${link.to}`;
  return {
    id,
    clientId: `tandem-bridge-${id}`,
    groupId: `tandem-bridge.${link.from}-${link.to}`,
    /** Group at the target holding the source offsets written in each transaction (exactly-once). */
    eosGroupId: `tandem-bridge-eos.${link.from}-${link.to}`,
    transactionalId: `tandem-bridge.${link.from}-${link.to}.${instance}`,
  };
}
