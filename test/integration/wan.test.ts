import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kafka, logLevel } from "kafkajs";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { bridgeGroupId } from "@tandem/replication";
import { LocalStack, proxyName, selectDirections, type SiteEndpoints, type WanControl } from "@tandem/stack";
import { AtLeastOnceDelivery } from "../../services/bridge/src/link/at-least-once";
import { localTopology, meshLinks } from "../../services/cli/src/local-topology";
import { kafkaFor, readTopic, recordCallsWithAudio } from "../support/clients";
import { freshDatabase } from "../support/databases";
import { waitFor } from "../support/events";
import { runSite, runTandem, terminateAll } from "../support/processes";
import { providedStack } from "../support/stack";
import { TEST_BASE_PORT, TEST_SITES } from "../support/test-stack";
import { writeTopologyFile } from "../support/topology";

/**
 * The WAN profile of the shared test stack (Toxiproxy between the sites, see global-setup.ts): a client at
 * nyc reaching lon through that direction's proxies, and the pair cut and healed under replication.
 */
const provided = providedStack();
if (provided.mode !== "local")
  throw new Error("the WAN tests need the local stack (Toxiproxy runs beside it)");
const { dataDir } = provided;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-wan-"));
const stackArgs = ["stack", "--data-dir", dataDir];
let endpoints: { sites: SiteEndpoints[] };
let wan: WanControl;
const site = (id: string) => endpoints.sites.find((s) => s.site === id)!;

beforeAll(() => {
  // One command brings up the whole WAN stack (here: finds the global setup's running and leaves it).
  const up = runTandem(
    [...stackArgs, "up", "--wan", "--sites", TEST_SITES.join(","), "--base-port", String(TEST_BASE_PORT)],
    300_000,
  );
  expect(up.code, up.err).toBe(0);
  expect(up.out).toMatch(/ready in .* over a WAN \(rtt=80ms,jitter=5ms,bandwidth=100mbit\)/);
  const local = new LocalStack({ dataDir });
  endpoints = local.endpoints();
  wan = local.wanControl();
});

afterAll(async () => {
  // The next files get the stack's profile back, whole.
  await wan.heal(selectDirections("all", TEST_SITES));
  expect(runTandem([...stackArgs, "wan", "set", "all", "rtt=80ms,jitter=5ms,bandwidth=100mbit"]).code).toBe(
    0,
  );
  fs.rmSync(workDir, { recursive: true, force: true });
});

/**
 * A client at `from` of `to`'s Kafka through the WAN, failing fast instead of retrying (an idempotent producer
 * needs at least one retry).
 */
function kafkaThroughWan(from: string, to: string, retries = 0): Kafka {
  const target = site(to);
  const via = target.reachedFrom?.[from];
  if (via === undefined) throw new Error(`${to} has no WAN address for ${from}`);
  return new Kafka({
    clientId: `wan-test-${from}`,
    brokers: via.kafka.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries, initialRetryTime: 100 },
    connectionTimeout: 3000,
    requestTimeout: 3000,
  });
}

interface BridgeLogEntry {
  level: number;
  time: number;
  link?: string;
  msg: string;
  kind?: string;
  error?: string;
}

/** What a site's bridge logged about its links since `since` (epoch ms), at info level and above. */
function bridgeEntriesSince(logFile: string, since: number): BridgeLogEntry[] {
  return fs
    .readFileSync(logFile, "utf8")
    .split("\n")
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as BridgeLogEntry];
      } catch {
        return [];
      }
    })
    .filter((e) => e.time >= since && e.link !== undefined && e.level >= 30);
}

/** The warnings and state changes a site's bridge logged since `since` (epoch ms), one line each. */
function bridgeLogSince(logFile: string, since: number): string {
  const said = new Set(["time", "level", "msg", "pid", "hostname", "name"]);
  return bridgeEntriesSince(logFile, since)
    .map((e) => {
      const detail = Object.fromEntries(Object.entries(e).filter(([key]) => !said.has(key)));
      return `${new Date(e.time).toISOString()} ${e.level} ${e.msg} ${JSON.stringify(detail)}`;
    })
    .join("\n");
}

/** nyc and lon replicating both ways over the stack's WAN profile, each served by `tandem run`. */
async function nycAndLonServed(name: string) {
  expect(runTandem([...stackArgs, "wan", "set", "all", "rtt=80ms,jitter=5ms,bandwidth=100mbit"]).code).toBe(
    0,
  );
  const sites = ["nyc", "lon"];
  const topology = localTopology({ sites: sites.map(site) }, meshLinks(sites));
  const databases = await Promise.all(sites.map((id) => freshDatabase(site(id))));
  topology.sites.forEach((s, i) => {
    s.postgres = { connectionString: databases[i]!.url };
  });
  const topologyFile = path.join(workDir, `${name}.yaml`);
  writeTopologyFile(topologyFile, topology);
  const services: ChildProcess[] = sites.map((id) => runSite(topologyFile, id, workDir, name));
  return {
    topologyFile,
    async stop() {
      await terminateAll(services);
      for (const db of databases) await db.drop();
    },
  };
}

describe("WAN profile", () => {
  it("carries Kafka through a pair's proxy at the configured RTT; set, cut and heal change it", async () => {
    const topic = `wan-test-${randomUUID()}`;
    const kafka = kafkaThroughWan("nyc", "lon");
    const admin = kafka.admin();
    await admin.connect();
    // The broker advertises the proxy to clients that came through it: metadata keeps them on the WAN.
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.map((b) => `${b.host}:${b.port}`)).toEqual(
      site("lon").reachedFrom!.nyc!.kafka.brokers,
    );
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();

    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const timedSend = async () => {
      const started = performance.now();
      await producer.send({ topic, acks: -1, messages: [{ value: "x" }] });
      return performance.now() - started;
    };
    await timedSend();
    expect(runTandem([...stackArgs, "wan", "set", "nyc-lon", "rtt=100ms,jitter=0ms"]).code).toBe(0);
    // A produce request and its acknowledgement cross the WAN once each way: at least one RTT.
    expect(await timedSend()).toBeGreaterThanOrEqual(100);
    expect(runTandem([...stackArgs, "wan", "set", "nyc-lon", "rtt=400ms,jitter=0ms"]).code).toBe(0);
    expect(await timedSend()).toBeGreaterThanOrEqual(400);
    const shown = runTandem([...stackArgs, "wan", "show"]);
    expect(shown.out).toMatch(/nyc->lon\s+up\s+up\s+up\s+400ms\s+0ms\s+100mbit/);

    expect(runTandem([...stackArgs, "wan", "cut", "nyc-lon", "--mode", "blackhole"]).code).toBe(0);
    await expect(timedSend()).rejects.toThrow();
    expect(runTandem([...stackArgs, "wan", "show"]).out).toMatch(
      /lon->nyc\s+blackhole\s+blackhole\s+blackhole/,
    );
    expect(runTandem([...stackArgs, "wan", "heal", "nyc-lon"]).code).toBe(0);
    await producer.disconnect();

    expect(runTandem([...stackArgs, "wan", "cut", "nyc-lon", "--one-way"]).code).toBe(0);
    const refused = kafkaThroughWan("nyc", "lon").producer();
    await expect(refused.connect()).rejects.toThrow();
    const oneWay = runTandem([...stackArgs, "wan", "show"]).out;
    expect(oneWay).toMatch(/nyc->lon\s+refuse\s+refuse\s+refuse/);
    expect(oneWay).toMatch(/lon->nyc\s+up\s+up\s+up/);
    expect(runTandem([...stackArgs, "wan", "heal", "all"]).code).toBe(0);

    const healed = kafkaThroughWan("nyc", "lon").producer();
    await healed.connect();
    await healed.send({ topic, acks: -1, messages: [{ value: "after heal" }] });
    await healed.disconnect();
  });

  it("a cut pair during a burst of calls with audio: links down with growing lag, nothing lost after heal", async () => {
    const { topologyFile, stop } = await nycAndLonServed("wan");
    const tenantId = randomUUID();
    const groupId = randomUUID();
    const call = { tenantId, groupId, audioBytes: 200_000 };
    try {
      await recordCallsWithAudio(site("nyc"), 5, call);
      await recordCallsWithAudio(site("lon"), 5, call);
      const status = () => runTandem(["status", "--config", topologyFile, "--down-after", "10", "--json"]);
      type Report = { links: Array<{ link: string; health: string; heartbeatAgeSeconds?: number }> };
      const links = (out: string) => (JSON.parse(out) as Report).links;
      await waitFor(
        async () => status(),
        (r) => r.code === 0,
        120_000,
      );

      expect(runTandem([...stackArgs, "wan", "cut", "nyc-lon", "--mode", "blackhole"]).code).toBe(0);
      await recordCallsWithAudio(site("nyc"), 10, call);
      await recordCallsWithAudio(site("lon"), 10, call);
      const down = await waitFor(
        async () => status(),
        (r) => r.code === 1 && links(r.out).every((l) => l.health === "down"),
        120_000,
      );
      expect(down.code).toBe(1);
      const firstAges = links(down.out).map((l) => l.heartbeatAgeSeconds ?? 0);
      const growing = (r: { code: number | null; out: string }) =>
        r.code === 1 &&
        links(r.out).every((l, i) => l.health === "down" && (l.heartbeatAgeSeconds ?? 0) > firstAges[i]!);
      expect(growing(await waitFor(async () => status(), growing, 60_000))).toBe(true);

      expect(runTandem([...stackArgs, "wan", "heal", "nyc-lon"]).code).toBe(0);
      const verify = await waitFor(
        async () => runTandem(["verify", "--config", topologyFile, "--tenant", tenantId, "--grace", "0"]),
        (r) => r.code === 0 && /nyc\s+calls 30\s/.test(r.out) && /lon\s+calls 30\s/.test(r.out),
        240_000,
      );
      expect(verify.code).toBe(0);
      expect(verify.out).toMatch(/no difference/);
    } finally {
      await stop();
    }
  }, 600_000);

  it("a cut shorter than the link's group session: its consumer stays a member unless kafkajs dropped its only broker, and the calls come after the heal", async ({
    onTestFailed,
  }) => {
    const { topologyFile, stop } = await nycAndLonServed("wan-short-cut");
    // A failure in CI leaves only its output: the bridge's own account of the cut goes with it.
    const startedAt = Date.now();
    onTestFailed(() => console.error(bridgeLogSince(path.join(workDir, "lon.log"), startedAt)));
    const tenantId = randomUUID();
    const call = { tenantId, groupId: randomUUID(), audioBytes: 20_000 };
    // lon's bridge pulls nyc->lon from nyc: its consumer group lives at nyc, reached here directly.
    const admin = kafkaFor(site("nyc")).admin();
    await admin.connect();
    const members = async () => {
      const [group] = (await admin.describeGroups([bridgeGroupId({ from: "nyc", to: "lon" })])).groups;
      return group!.state === "Stable" ? group!.members.map((m) => m.memberId).sort() : [];
    };
    const calls = (count: number) => (r: { code: number | null; out: string }) =>
      r.code === 0 && new RegExp(`lon\\s+calls ${count}\\s`).test(r.out);
    const verify = () =>
      runTandem(["verify", "--config", topologyFile, "--tenant", tenantId, "--grace", "0"]);
    try {
      await recordCallsWithAudio(site("nyc"), 3, call);
      await waitFor(async () => verify(), calls(3), 120_000);
      const before = await members();
      expect(before).toHaveLength(1);

      // Cut and healed in-process: a CLI's start on a busy machine lengthened the cut by seconds each time,
      // and once past the session (the member had changed).
      const pair = selectDirections("nyc-lon", TEST_SITES);
      await wan.cut(pair, "refuse");
      const cutAt = Date.now();
      // Recorded at nyc while the cut lasts, not before it is timed: on a busy machine the recording itself
      // could take long enough to stretch the cut past the session.
      const recorded = recordCallsWithAudio(site("nyc"), 5, call);
      // Long enough for kafkajs to give up on a client with its default retries (about 9 s); shorter than
      // the group session (30 s), so the member that rode it out is still known to the group.
      await sleep(Math.max(0, cutAt + 15_000 - Date.now()));
      await wan.heal(pair);
      await recorded;

      const healed = await waitFor(async () => verify(), calls(8), 120_000);
      expect(healed.out).toMatch(/no difference/);
      // kafkajs drops a broker from its pool when a connection to it closes mid-fetch; with the cluster's only
      // broker gone its consumer crashes ("No broker available", kafkajs pull request 1402) instead of
      // retrying, and the replacement's join waits for the old member's session. That, and only that, may
      // replace the member; any other crash fails here.
      const crashes = bridgeEntriesSince(path.join(workDir, "lon.log"), startedAt).filter(
        (e) => e.msg === "link down, retrying" && e.kind === "consumer",
      );
      if (crashes.length === 0) expect(await members()).toEqual(before);
      else expect(crashes.map((e) => e.error)).toEqual(crashes.map(() => "No broker available"));
    } finally {
      await admin.disconnect();
      await stop();
    }
  }, 300_000);

  it("at-least-once: an acknowledgement lost on the way back, then another batch: a new producer id writes it, nothing lost", async () => {
    expect(runTandem([...stackArgs, "wan", "set", "nyc-lon", "rtt=80ms,jitter=0ms"]).code).toBe(0);
    const topic = `lost-ack-${randomUUID()}`;
    // One retry, so that a lost acknowledgement fails the batch in seconds.
    const kafka = kafkaThroughWan("nyc", "lon", 1);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const delivery = new AtLeastOnceDelivery(kafka, 1);
    const batch = (...values: string[]) => [[{ topic, messages: values.map((value) => ({ value })) }]];
    const proxy = proxyName({ from: "nyc", to: "lon" }, "kafka");
    const lostAcks = {
      name: "lost-acks",
      type: "timeout" as const,
      stream: "downstream" as const,
      attributes: { timeout: 0 },
    };
    try {
      await delivery.connect();
      const writer = await delivery.writer();
      await writer.deliver(batch("a"), "1");
      // The broker writes b1 and b2; its answer never comes back, so the producer counts them as not sent.
      await wan.client.putToxic(proxy, lostAcks, []);
      try {
        await expect(writer.deliver(batch("b1", "b2"), "3")).rejects.toThrow();
      } finally {
        await wan.client.deleteToxic(proxy, lostAcks.name);
      }
      // A batch cut otherwise (as after a rebalance) reuses the sequence the broker already holds.
      const refusals: unknown[] = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        const error = await writer.deliver(batch("c"), "4").then(
          () => undefined,
          (e: unknown) => e,
        );
        if (error === undefined) break;
        refusals.push(error);
      }
      expect(refusals.map((e) => (e as { type?: string }).type)).toEqual(["OUT_OF_ORDER_SEQUENCE_NUMBER"]);
      const values = (await readTopic(site("lon"), topic)).map((m) => m.value?.toString());
      expect(values).toEqual(["a", "b1", "b2", "c"]);
    } finally {
      await delivery.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  });
});
