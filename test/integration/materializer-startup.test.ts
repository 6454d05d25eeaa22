import { expect, it } from "vitest";
import { runMaterializer, type Materializer } from "../../services/materializer/src";
import { freshDatabase } from "../support/databases";
import { testLogger } from "../support/logger";
import { stack } from "../support/stack";
import { topologyOf } from "../support/topology";

const test = await stack();
const lon = test.site("lon");

it("a materializer started while its Kafka is down waits for it instead of exiting", async () => {
  const database = await freshDatabase(lon);
  const topology = topologyOf([lon], []);
  topology.sites[0]!.postgres = { connectionString: database.url };
  await test.stop("lon", "kafka");
  let materializer: Materializer | undefined;
  let failure: unknown;
  let starting: Promise<void> | undefined;
  try {
    starting = runMaterializer({
      topology,
      siteId: "lon",
      logger: testLogger("materializer-startup"),
      options: { consumer: { groupId: `startup-${crypto.randomUUID()}` } },
    }).then(
      (started) => {
        materializer = started;
      },
      (error: unknown) => {
        failure = error;
      },
    );
    // Longer than the Kafka client's own retries (about 10 s), after which a start used to fail.
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    expect(failure).toBeUndefined();
    expect(materializer).toBeUndefined();
  } finally {
    await test.start("lon", "kafka");
  }
  await starting;
  expect(failure).toBeUndefined();
  await materializer!.joined;
  await materializer!.stop();
  await database.drop();
}, 180_000);
