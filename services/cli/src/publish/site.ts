import pino from "pino";
import { registryAuthOf, type SiteConfig } from "@tandem/config";
import { EventCodec, HybridLogicalClock } from "@tandem/events";
import { createKafka, ensureSiteTopics } from "@tandem/kafka";
import { openObjectStore, type ObjectStore } from "@tandem/object-store";
import { RecorderPublisher } from "@tandem/recorder";
import { siteOf } from "../commands/run";
import { topologyFor } from "../commands/verify";

/** A site's server that did not answer, or not as expected: one line, and nothing was published. */
export async function reach<T>(what: string, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}; nothing published`);
  }
}

/** The site named by --site in the topology of --config (or the local stack's): exit 2 when unknown. */
export function siteIn(flags: { config?: string; dataDir: string; site: string }): SiteConfig {
  const topology = topologyFor(flags.config, flags.dataDir);
  siteOf(topology, flags.site);
  return topology.sites.find((s) => s.id === flags.site)!;
}

/**
 * A publisher for the site once its Kafka and registry answered (a producer that gives up after a few
 * seconds, not minutes), closed after `use`.
 */
export async function withPublisher<T>(
  site: SiteConfig,
  topic: string,
  use: (publisher: RecorderPublisher, store: ObjectStore) => Promise<T>,
): Promise<T> {
  const clientId = `tandem-publish-${site.id}`;
  const kafka = createKafka(site.kafka, clientId, pino({ level: "silent" }));
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: 2, initialRetryTime: 300, maxRetryTime: 2000 },
  });
  const codec = new EventCodec({ host: site.registry.url, auth: registryAuthOf(site.registry), clientId });
  const store = openObjectStore(site.objectStore);
  try {
    await reach(`site ${site.id}: Kafka unreachable`, async () => {
      await producer.connect();
      // A site where no Tandem service ran yet has no topics; the recorder simulator creates them too.
      const admin = kafka.admin({ retry: { retries: 2 } });
      await admin.connect();
      await ensureSiteTopics(admin, site.retentionMs).finally(() => admin.disconnect());
    });
    await reach(`site ${site.id}: schema registry unreachable`, () => codec.register(topic));
    const clock = new HybridLogicalClock(() => Date.now());
    return await use(new RecorderPublisher({ site: site.id, producer, codec, store, clock }), store);
  } finally {
    await producer.disconnect().catch(() => {});
    store.close();
  }
}
