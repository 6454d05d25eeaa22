import pino from "pino";
import { registryAuthOf, type SiteConfig } from "@tandem/config";
import { EventCodec, HybridLogicalClock, type UserChanged } from "@tandem/events";
import { createKafka } from "@tandem/kafka";
import { createPool, resolveConflict } from "@tandem/materializer";

export type ResolutionChoice = Parameters<typeof resolveConflict>[0]["choice"];

/**
 * An administrator's decision on a user's conflict, published at `site` as the resolution event that every
 * site's materializer applies (`tandem conflicts resolve` and the console).
 */
export async function publishResolution(
  site: SiteConfig,
  userId: string,
  choice: ResolutionChoice,
): Promise<UserChanged> {
  const pool = createPool(site.postgres, 2);
  const producer = createKafka(site.kafka, "tandem-conflicts", pino({ level: "silent" })).producer({
    idempotent: true,
    maxInFlightRequests: 1,
  });
  try {
    await producer.connect();
    return await resolveConflict({
      pool,
      producer,
      codec: new EventCodec({ host: site.registry.url, auth: registryAuthOf(site.registry) }),
      clock: new HybridLogicalClock(() => Date.now()),
      site: site.id,
      userId,
      choice,
    });
  } finally {
    await producer.disconnect().catch(() => {});
    await pool.end();
  }
}
