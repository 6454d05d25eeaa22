/** What the one-site benchmarks share: their stack and the way they print their figures side by side. */
import os from "node:os";
import { EventCodec, HybridLogicalClock } from "@tandem/events";
import { createKafka, ensureSiteTopics } from "@tandem/kafka";
import { S3ObjectStore } from "@tandem/object-store";
import type { Logger } from "@tandem/runtime";
import { LocalStack, type SiteEndpoints } from "@tandem/stack";
import { RecorderPublisher } from "../services/recorder/src";

/** The one-site local stack of the benchmarks (`.tandem/bench-stack`, ports 27000-27004), started if needed. */
export async function benchSite(): Promise<{ site: SiteEndpoints; stack: LocalStack }> {
  const stack = new LocalStack({
    dataDir: ".tandem/bench-stack",
    sites: ["bench"],
    basePort: 27000,
    progress: (message) => process.stderr.write(`[stack] ${message}\n`),
  });
  const started = performance.now();
  const site = (await stack.up()).sites[0]!;
  process.stderr.write(`[stack] up in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  return { site, stack };
}

/** Prints a title, the machine, notes, then `rows` (the first one a header) in aligned columns. */
export function printSideBySide(title: string, notes: string, rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(`\n${title}`);
  console.log(
    `cores ${os.availableParallelism()}, Node ${process.version}, ${os.cpus()[0]?.model ?? "unknown CPU"}`,
  );
  console.log(`${notes}\n`);
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join("   "));
}

/**
 * The recorder publisher at the bench site with its production settings (the site's topics created
 * first); `close` disconnects it.
 */
export async function benchPublisher(
  site: SiteEndpoints,
  logger: Logger,
): Promise<{ publisher: RecorderPublisher; codec: EventCodec; close: () => Promise<void> }> {
  const kafka = createKafka(site.kafka, "tandem-bench", logger);
  const admin = kafka.admin();
  await admin.connect();
  await ensureSiteTopics(admin);
  await admin.disconnect();
  // The publisher's production settings: idempotent, acks=all (kafkajs sends one request per send()).
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const codec = new EventCodec({ host: site.registry.url });
  const store = new S3ObjectStore(site.objectStore);
  const publisher = new RecorderPublisher({
    site: site.site,
    producer,
    codec,
    store,
    clock: new HybridLogicalClock(() => Date.now()),
  });
  return {
    publisher,
    codec,
    close: async () => {
      await producer.disconnect();
      store.close();
    },
  };
}
