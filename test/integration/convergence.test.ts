import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterEach, expect, it } from "vitest";
import type { MergePolicy } from "@tandem/config";
import { EventCodec, HybridLogicalClock, type VersionVector } from "@tandem/events";
import { runBridge, type RunningBridge } from "../../services/bridge/src";
import { runMaterializer, type Materializer } from "../../services/materializer/src";
import { RecorderPublisher } from "../../services/recorder/src/publisher";
import { kafkaFor, storeFor } from "../support/clients";
import { freshDatabase } from "../support/databases";
import { waitFor } from "../support/events";
import { testLogger } from "../support/logger";
import { stack } from "../support/stack";
import { topologyOf, twoWay } from "../support/topology";

/**
 * Three real sites edit the same users concurrently, part of the time cut off from each other (their
 * bridges stopped); once the links are back, the three databases must hold identical users, row by row.
 */
const test = await stack();
const sites = ["nyc", "lon", "sfo"].map((id) => test.site(id));
const cleanups: Array<() => Promise<void>> = [];

// Each case stops its own bridges and materializers, so that the next case's partition is a real one.
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function usersOf(url: string, tenant: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const users = await client.query(
      `SELECT user_id, deleted, name, email, extensions, role, active, version FROM users WHERE tenant_id = $1 ORDER BY user_id`,
      [tenant],
    );
    const conflicts = await client.query(
      `SELECT c.user_id, c.field, c.status, c.siblings FROM conflicts c JOIN users u USING (user_id)
        WHERE u.tenant_id = $1 ORDER BY c.user_id, c.field`,
      [tenant],
    );
    return { users: users.rows, conflicts: conflicts.rows };
  } finally {
    await client.end();
  }
}

it.each<[string, MergePolicy]>([
  ["lww", { kind: "lww" }],
  ["manual", { kind: "manual" }],
])(
  "three sites converge to identical users after concurrent edits and a partition (%s)",
  async (_name, policy) => {
    const databases = await Promise.all(sites.map((site) => freshDatabase(site)));
    cleanups.push(...databases.map((db) => db.drop));
    const topology = topologyOf(
      sites,
      [...twoWay("nyc", "lon"), ...twoWay("lon", "sfo"), ...twoWay("nyc", "sfo")],
      policy,
    );
    topology.sites.forEach((site, i) => (site.postgres = { connectionString: databases[i]!.url }));
    const logger = testLogger("convergence");
    const materializers: Materializer[] = await Promise.all(
      sites.map((site) =>
        runMaterializer({
          topology,
          siteId: site.site,
          logger,
          options: { consumer: { groupId: `convergence-${site.site}-${randomUUID()}` } },
        }),
      ),
    );
    cleanups.push(async () => {
      await Promise.all(materializers.map((m) => m.stop()));
    });
    const bridgeOptions = {
      topology,
      logger,
      backoff: { initialMs: 200, maxMs: 2000, multiplier: 2, jitter: 0.5 },
    };
    let bridge: RunningBridge = await runBridge(bridgeOptions);

    const tenant = randomUUID();
    const group = randomUUID();
    const userIds = Array.from({ length: 4 }, () => randomUUID());
    const producers = await Promise.all(
      sites.map(async (site) => {
        const producer = kafkaFor(site).producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        return producer;
      }),
    );
    cleanups.push(async () => {
      await Promise.all(producers.map((p) => p.disconnect()));
    });
    const publishers = sites.map(
      (site, i) =>
        new RecorderPublisher({
          site: site.site,
          producer: producers[i]!,
          codec: new EventCodec({ host: site.registry.url }),
          store: storeFor(site),
          clock: new HybridLogicalClock(() => Date.now()),
        }),
    );
    // Each site bases its edits on what it has seen of the user so far: its own previous edit only.
    const seen = sites.map(() => new Map<string, VersionVector>());
    const edit = async (
      siteIndex: number,
      userId: string,
      changes: Record<string, unknown>,
      operation: "UPSERT" | "DELETE" = "UPSERT",
    ) => {
      const event = await publishers[siteIndex]!.publishUserChanged({
        userId,
        tenantId: tenant,
        groupId: group,
        operation,
        changes,
        baseVersion: seen[siteIndex]!.get(userId) ?? {},
      });
      seen[siteIndex]!.set(userId, {
        ...(seen[siteIndex]!.get(userId) ?? {}),
        [sites[siteIndex]!.site]: event.hlc,
      });
    };

    for (const userId of userIds)
      await edit(0, userId, {
        name: "Created at nyc",
        email: `${userId.slice(0, 8)}@example.com`,
        active: true,
      });
    await waitFor(
      async () => Promise.all(databases.map((db) => usersOf(db.url, tenant))),
      (all) => all.every((s) => s.users.length === userIds.length),
      90_000,
    );

    // Partition: no bridge runs while every site edits the same users.
    await bridge.stop();
    await edit(0, userIds[0]!, { name: "nyc's name" });
    await edit(1, userIds[0]!, { name: "lon's name" });
    await edit(2, userIds[0]!, { role: "supervisor" });
    await edit(1, userIds[1]!, {}, "DELETE");
    await edit(2, userIds[1]!, { email: "still-here@example.com" });
    await edit(0, userIds[2]!, { extensions: ["201"] });
    await edit(2, userIds[2]!, { extensions: ["301", "302"] });
    await edit(1, userIds[3]!, { active: false });

    bridge = await runBridge(bridgeOptions);
    cleanups.push(() => bridge.stop());
    // Every partition edit has reached every site once the last of each is visible everywhere.
    const allApplied = (state: Awaited<ReturnType<typeof usersOf>>) => {
      const byId = new Map(state.users.map((u) => [u.user_id as string, u]));
      return (
        byId.get(userIds[0]!)?.role === "supervisor" &&
        byId.get(userIds[1]!)?.email === "still-here@example.com" &&
        byId.get(userIds[3]!)?.active === false &&
        state.conflicts.some((c) => c.user_id === userIds[2] && c.field === "extensions")
      );
    };
    const final = await waitFor(
      async () => Promise.all(databases.map((db) => usersOf(db.url, tenant))),
      (all) => all.every(allApplied) && all.every((s) => JSON.stringify(s) === JSON.stringify(all[0])),
      120_000,
    );
    expect(final[1]).toEqual(final[0]);
    expect(final[2]).toEqual(final[0]);
    const byId = new Map(final[0]!.users.map((u) => [u.user_id as string, u]));
    // Edits of different fields of the same user both survive.
    expect(byId.get(userIds[0]!)?.role).toBe("supervisor");
    expect(["nyc's name", "lon's name"]).toContain(byId.get(userIds[0]!)?.name);
    expect(byId.get(userIds[3]!)?.active).toBe(false);
    const conflictFields = final[0]!.conflicts.map(
      (c) => `${c.user_id === userIds[0] ? "u0" : c.user_id === userIds[2] ? "u2" : "u1"}.${c.field}`,
    );
    expect(conflictFields).toEqual(expect.arrayContaining(["u0.name", "u2.extensions"]));
    const expectedStatus = policy.kind === "manual" ? "open" : "resolved-by-policy";
    expect(final[0]!.conflicts.every((c) => c.status === expectedStatus)).toBe(true);
  },
  300_000,
);
