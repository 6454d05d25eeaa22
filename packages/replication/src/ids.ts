import type { LinkConfig } from "@tandem/config";

/**
 * The names Tandem's processes take in Kafka: consumer groups, transactional ids and client ids. Status,
 * audits and tests find a link's or a site's position by these names, so they are written here only.
 */

type LinkEnds = Pick<LinkConfig, "from" | "to">;

/** A link as operators and metrics name it: `nyc->lon`. */
export const linkName = (link: LinkEnds): string => `${link.from}->${link.to}`;

/** The group at the link's source in which the bridge commits the source offsets it forwarded. */
export const bridgeGroupId = (link: LinkEnds): string => `tandem-bridge.${link.from}-${link.to}`;

/** Exactly-once: the group at the target whose offsets each transaction records with its records. */
export const bridgeTransactionGroupId = (link: LinkEnds): string =>
  `tandem-bridge-eos.${link.from}-${link.to}`;

/**
 * Exactly-once: the transactional id of the writer of one source partition, whichever instance owns it.
 * Per partition, not per instance, so that the partition's next owner fences its previous one.
 */
export const bridgeTransactionalId = (link: LinkEnds, topic: string, partition: number): string =>
  `${bridgeGroupId(link)}.${topic}.${partition}`;

export const bridgeClientId = (link: LinkEnds): string => `tandem-bridge-${linkName(link)}`;

/** The group in which a site's materializers consume its event topics. */
export const materializerGroupId = (site: string): string => `tandem-materializer.${site}`;

export const materializerClientId = (site: string): string => `tandem-materializer-${site}`;
