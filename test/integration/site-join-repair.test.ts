import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLS_TOPIC, USERS_TOPIC, type CallCompleted } from "@tandem/events";
import { ensureSiteTopics } from "@tandem/kafka";
import { bridgeGroupId } from "@tandem/replication";
import { LocalStack, type SiteEndpoints, type StackEndpoints } from "@tandem/stack";
import { audioSha256At, kafkaFor, recordCallsWithAudio, recorderAt } from "../support/clients";
import { waitFor } from "../support/events";
import { exited, runTandem, spawnTandem, terminateAll } from "../support/processes";
import { JOIN_BASE_PORT, TEST_SITES, laneDataDir } from "../support/test-stack";
import { link, topologyOf, twoWay, writeTopologyFile } from "../support/topology";

/**
 * Nothing lost beyond the log, on a three-site stack of its own (the test deletes whole logs, which would
 * disturb the shared stack's other users): a link whose source deleted records while it was stopped is
 * reported `data-lost` until `tandem repair` heals it, and a site that joins after the logs lost their first
 * events is filled by `tandem repair`. Every site runs `tandem run`, as in production.
 */
const joinDataDir = laneDataDir("test-site-join");
const joinStack = new LocalStack({
  dataDir: joinDataDir,
  sites: TEST_SITES,
  basePort: JOIN_BASE_PORT,
});
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-site-join-"));
const topologyFile = path.join(workDir, "topology.yaml");
const services = new Map<string, ChildProcess>();
const tenant = randomUUID();
const group = randomUUID();
const userId = randomUUID();
const recorded: CallCompleted[] = [];
let endpoints: StackEndpoints;
let site: (id: string) => SiteEndpoints;

const tandem = (args: string[], timeoutMs = 60_000) =>
  runTandem([...args, "--config", topologyFile], timeoutMs);
const repair = (to: string) => tandem(["repair", "--to", to, "--grace", "0", "--wait", "120"], 200_000);
const verify = async () => tandem(["verify", "--grace", "0"]);

function startSite(id: string): void {
  services.set(
    id,
    spawnTandem(["run", "--config", topologyFile, "--site", id], path.join(workDir, `${id}.log`)),
  );
}

async function stopSite(id: string): Promise<void> {
  const child = services.get(id)!;
  child.kill("SIGTERM");
  expect(await exited(child)).toBe(0);
  services.delete(id);
}

async function query<T extends pg.QueryResultRow>(id: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({
    connectionString: site(id).postgres.connectionString,
  });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function recordCalls(at: string, count: number): Promise<void> {
  recorded.push(
    ...(await recordCallsWithAudio(site(at), count, {
      tenantId: tenant,
      groupId: group,
      participantUserIds: [userId],
      audioBytes: 16_000,
    })),
  );
}

async function editUser(at: string, changes: Record<string, unknown>): Promise<void> {
  const { publisher, close } = await recorderAt(site(at));
  try {
    await publisher.publishUserChanged({
      userId,
      tenantId: tenant,
      groupId: group,
      operation: "UPSERT",
      changes,
      baseVersion: {},
    });
  } finally {
    await close();
  }
}

/** Deletes every record the topics hold, as retention would once they are old enough; returns the new starts. */
async function deleteLogs(at: string, topics: string[]): Promise<Map<string, Map<number, bigint>>> {
  const admin = kafkaFor(site(at)).admin();
  await admin.connect();
  try {
    const starts = new Map<string, Map<number, bigint>>();
    // kafkajs finds the partitions' leaders in its cached metadata.
    await admin.fetchTopicMetadata({ topics });
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.deleteTopicRecords({
        topic,
        partitions: ends.map(({ partition, high }) => ({ partition, offset: high })),
      });
      starts.set(topic, new Map(ends.map(({ partition, high }) => [partition, BigInt(high)])));
    }
    return starts;
  } finally {
    await admin.disconnect();
  }
}

/** The records between a group's committed positions and the topics' new starts: what it can no longer read. */
async function unreadBy(
  at: string,
  groupId: string,
  starts: Map<string, Map<number, bigint>>,
): Promise<number> {
  const admin = kafkaFor(site(at)).admin();
  await admin.connect();
  try {
    let unread = 0n;
    for (const [topic, byPartition] of starts) {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      for (const { partition, offset } of committed!.partitions) {
        const start = byPartition.get(partition) ?? 0n;
        if (BigInt(offset) >= 0n && BigInt(offset) < start) unread += start - BigInt(offset);
      }
    }
    return Number(unread);
  } finally {
    await admin.disconnect();
  }
}

/** Every call recorded by the test is at the site, its audio present with the origin's bytes. */
async function expectEveryCallAt(at: string): Promise<void> {
  const rows = await query<{ call_id: string; audio_state: string; event_id: string }>(
    at,
    "SELECT call_id, audio_state, event_id FROM calls WHERE tenant_id = $1",
    [tenant],
  );
  expect(rows).toHaveLength(recorded.length);
  const byId = new Map(rows.map((row) => [row.call_id, row]));
  for (const call of recorded) {
    expect(byId.get(call.callId)).toMatchObject({ event_id: call.eventId, audio_state: "present" });
    expect(await audioSha256At(site(at), call)).toBe(call.audio!.sha256);
  }
}

const userRow = (at: string) =>
  query<{ state: unknown; version: unknown }>(at, "SELECT state, version FROM users WHERE user_id = $1", [
    userId,
  ]);

const linkHealth = (out: string, id: string) =>
  (JSON.parse(out) as { links: Array<{ link: string; health: string; why?: string }> }).links.find(
    (l) => l.link === id,
  );

beforeAll(async () => {
  // Every run starts from empty logs and databases; the servers' downloads (cache/) are kept.
  await joinStack.down();
  for (const entry of fs.existsSync(joinDataDir) ? fs.readdirSync(joinDataDir) : []) {
    if (entry !== "cache") fs.rmSync(path.join(joinDataDir, entry), { recursive: true, force: true });
  }
  endpoints = await joinStack.up();
  site = (id) => endpoints.sites.find((s) => s.site === id)!;
  // The test records before the services are up: the topics are there, with their leaders, first.
  for (const id of TEST_SITES) {
    const admin = kafkaFor(site(id)).admin();
    await admin.connect();
    await ensureSiteTopics(admin);
    await admin.disconnect();
  }
  writeTopologyFile(topologyFile, topologyOf([site("nyc"), site("lon")], twoWay("nyc", "lon")));
  startSite("nyc");
  startSite("lon");
});

afterAll(async () => {
  await terminateAll(services.values());
  await joinStack.down();
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe("nothing lost beyond the log", { timeout: 400_000 }, () => {
  it("a link that lost records to retention is data-lost until tandem repair heals it", async () => {
    await recordCalls("nyc", 5);
    await recordCalls("lon", 2);
    await editUser("nyc", { name: "Grace", email: "grace@example.com" });
    await waitFor(verify, (r) => r.code === 0 && /lon\s+calls 7\s/.test(r.out), 180_000);

    await stopSite("lon");
    await recordCalls("nyc", 8);
    await editUser("nyc", { role: "supervisor" });
    // nyc's own materializer has read them: the records are lost to lon alone.
    await waitFor(
      async () => query("nyc", "SELECT 1 FROM calls WHERE tenant_id = $1", [tenant]),
      (rows) => rows.length === 15,
      60_000,
    );
    const starts = await deleteLogs("nyc", [CALLS_TOPIC, USERS_TOPIC]);
    const lost = await unreadBy("nyc", bridgeGroupId({ from: "nyc", to: "lon" }), starts);
    expect(lost).toBe(9);
    await recordCalls("nyc", 2);
    startSite("lon");

    const reported = await waitFor(
      async () => tandem(["status", "--json"]),
      (r) => linkHealth(r.out, "nyc->lon")?.why?.startsWith(`${lost} records`) === true,
      120_000,
    );
    expect(reported.code).toBe(1);
    expect(linkHealth(reported.out, "nyc->lon")?.why).toMatch(
      new RegExp(`^${lost} records deleted before it read them`),
    );
    // The two calls recorded after the deletion arrive; the eight deleted ones do not.
    const lagging = await waitFor(verify, (r) => /lon\s+calls 9\s/.test(r.out), 120_000);
    expect(lagging.code).toBe(1);

    const repaired = repair("lon");
    expect(repaired.err).toMatch(/published 8 call\(s\) into lon/);
    expect(repaired.err).toMatch(
      new RegExp(`healed \\d+ gap\\(s\\) at nyc \\(${lost} record\\(s\\) lost to retention\\)`),
    );
    expect(repaired.out).toMatch(/consistent/);
    expect(repaired.code, repaired.err + repaired.out).toBe(0);
    await expectEveryCallAt("lon");
    expect(await userRow("lon")).toEqual(await userRow("nyc"));

    const healthy = await waitFor(
      async () => tandem(["status", "--json"]),
      (r) => r.code === 0,
      60_000,
    );
    expect(linkHealth(healthy.out, "nyc->lon")?.health).toBe("ok");
    expect(tandem(["gaps"]).code).toBe(0);
  });

  it("a site added after the logs lost their first events is filled by tandem repair", async () => {
    await editUser("lon", { name: "Grace Hopper" });
    await waitFor(verify, (r) => r.code === 0, 120_000);
    // Everything recorded so far leaves the logs of both sites, relayed copies included.
    for (const [at, other] of [
      ["nyc", "lon"],
      ["lon", "nyc"],
    ] as const) {
      await deleteLogs(at, [CALLS_TOPIC, USERS_TOPIC, `${other}.${CALLS_TOPIC}`, `${other}.${USERS_TOPIC}`]);
    }

    writeTopologyFile(
      topologyFile,
      topologyOf(
        [site("nyc"), site("lon"), site("sfo")],
        [...twoWay("nyc", "lon"), link("nyc", "sfo"), link("lon", "sfo")],
      ),
    );
    startSite("sfo");
    const before = recorded.length;
    await recordCalls("lon", 1);
    // The new site gets what is recorded now, and nothing from before it joined.
    const joined = await waitFor(verify, (r) => /sfo\s+calls 1\s/.test(r.out), 180_000);
    expect(joined.code).toBe(1);

    const repaired = repair("sfo");
    expect(repaired.err).toMatch(new RegExp(`published ${before} call\\(s\\) into sfo`));
    expect(repaired.err).toMatch(/lacking \d+ write\(s\) to re-emit/);
    expect(repaired.out).toMatch(/consistent/);
    expect(repaired.code, repaired.err + repaired.out).toBe(0);
    await expectEveryCallAt("sfo");
    const [atNyc, atLon, atSfo] = await Promise.all(["nyc", "lon", "sfo"].map(userRow));
    expect(atSfo).toHaveLength(1);
    expect(atSfo).toEqual(atNyc);
    expect(atSfo).toEqual(atLon);

    const again = repair("sfo");
    expect(again.err).toMatch(/calls: 0 missing and 0 with failed audio to republish/);
    expect(again.code).toBe(0);
    expect((await verify()).code).toBe(0);
  });
});
