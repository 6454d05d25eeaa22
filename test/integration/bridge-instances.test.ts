import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { parseTopology, type LinkConfig } from "@tandem/config";
import { CALLS_TOPIC, type CallCompleted } from "@tandem/events";
import { bridgeGroupId } from "@tandem/replication";
import { FencedError } from "../../services/bridge/src/link/delivery";
import { ExactlyOnceDelivery } from "../../services/bridge/src/link/exactly-once";
import { kafkaFor, readTopic } from "../support/clients";
import { testLogger } from "../support/logger";
import { callsAt, publishCalls, waitFor, type ReceivedCall } from "../support/events";
import { ServiceProcess } from "../support/soak/service";
import { stack } from "../support/stack";
import { link, topologyOf } from "../support/topology";

/**
 * Several bridge instances of one link, as separate processes, while one is frozen (SIGSTOP) for longer
 * than the consumer session, killed, or both, and the target's broker restarts: the target topic, read
 * with read_committed, must hold every event exactly once (exactly-once) or at least once (at-least-once).
 */
const test = await stack();
const nyc = test.site("nyc");
const lon = test.site("lon");
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-bridge-instances-"));
const remote = `nyc.${CALLS_TOPIC}`;
/** The broker's shortest session (`group.min.session.timeout.ms`): a frozen instance loses its partitions soon. */
const SESSION_MS = 6000;
/** Past the session, and long enough for the other instance to forward the frozen one's partitions. */
const FREEZE_MS = SESSION_MS + 4000;
const running: ServiceProcess[] = [];
type Uuid = ReturnType<typeof crypto.randomUUID>;

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  fs.rmSync(workDir, { recursive: true, force: true });
});

function topologyFile(delivery: LinkConfig["delivery"]): string {
  const file = path.join(workDir, `${delivery}.yaml`);
  const text = YAML.stringify({
    ...topologyOf([nyc, lon], [link("nyc", "lon", { delivery })]),
    tuning: {
      bridge: {
        sessionTimeout: `${SESSION_MS}ms`,
        heartbeatInterval: "1s",
        retry: { initial: "200ms", max: "2s" },
      },
    },
  });
  parseTopology(text, { env: {}, sourceName: file });
  fs.writeFileSync(file, text);
  return file;
}

/** Bridge instances for lon, each `tandem run --role bridge --instance <name>` in its own process. */
async function startInstances(delivery: LinkConfig["delivery"], names: string[]): Promise<ServiceProcess[]> {
  const file = topologyFile(delivery);
  const instances = names.map(
    (name) =>
      new ServiceProcess({
        name,
        args: ["run", "--config", file, "--site", "lon", "--role", "bridge", "--instance", name],
        logFile: path.join(workDir, `${name}.log`),
      }),
  );
  for (const instance of instances) instance.start();
  running.push(...instances);
  await groupServedBy(instances.length);
  return instances;
}

/** Waits until the link's group at the source is stable with `count` members, each owning partitions. */
async function groupServedBy(count: number): Promise<void> {
  const admin = kafkaFor(nyc).admin();
  await admin.connect();
  try {
    const group = await waitFor(
      async () => (await admin.describeGroups([bridgeGroupId({ from: "nyc", to: "lon" })])).groups[0]!,
      (g) =>
        g.state === "Stable" &&
        g.members.length === count &&
        g.members.every((m) => m.memberAssignment.length > 0),
      90_000,
    );
    expect(group.members).toHaveLength(count);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Resolves once `count` more records reached lon's copy of nyc's calls: its end offsets move with records
 * still in open transactions, so the instances are then forwarding.
 */
async function forwarding(count: number): Promise<void> {
  const admin = kafkaFor(lon).admin();
  await admin.connect();
  const end = async () =>
    (await admin.listTopics()).includes(remote)
      ? (await admin.fetchTopicOffsets(remote)).reduce((sum, p) => sum + Number(p.high), 0)
      : 0;
  try {
    const before = await end();
    while ((await end()) - before < count) await sleep(20);
  } finally {
    await admin.disconnect();
  }
}

/** Publishes calls at nyc in small batches until stopped: steady load. */
function steadyLoad(tenant: Uuid, group: Uuid): { stop: () => Promise<CallCompleted[]> } {
  const sent: CallCompleted[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      sent.push(...(await publishCalls(nyc, 10, tenant, group)));
      await sleep(200);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return sent;
    },
  };
}

/**
 * The tenant's calls at lon once every sent event arrived, read again after a pause so that a late
 * commit by a thawed instance would show.
 */
async function receivedAtLon(tenant: string, sent: CallCompleted[]): Promise<ReceivedCall[]> {
  await waitFor(
    () => callsAt(lon, remote, tenant),
    (c) => new Set(c.map((x) => x.event.eventId)).size >= sent.length,
    120_000,
  );
  await sleep(3000);
  return callsAt(lon, remote, tenant);
}

function expectEach(received: ReceivedCall[], sent: CallCompleted[], exactlyOnce: boolean): void {
  const ids = received.map((c) => c.event.eventId);
  const distinct = new Set(ids);
  const missing = sent.filter((e) => !distinct.has(e.eventId)).length;
  console.log(
    `sent ${sent.length}, received ${ids.length} records, ${distinct.size} distinct, ` +
      `${ids.length - distinct.size} duplicates, ${missing} missing`,
  );
  expect(missing).toBe(0);
  expect(distinct.size).toBe(sent.length);
  if (exactlyOnce) expect(ids.length).toBe(sent.length);
}

/** Instances must ride out a freeze and a fence without exiting. */
function expectAlive(instances: ServiceProcess[]): void {
  for (const instance of instances) expect(instance.unexpectedExits, instance.spec.name).toBe(0);
}

describe("exactly-once with several bridge instances of one link", () => {
  let a: ServiceProcess;
  let b: ServiceProcess;

  beforeAll(async () => {
    [a, b] = (await startInstances("exactly-once", ["lon-a", "lon-b"])) as [ServiceProcess, ServiceProcess];
  }, 120_000);

  it("one instance frozen past its session during steady load: no duplicate, none missing", async () => {
    const tenant = crypto.randomUUID();
    const load = steadyLoad(tenant, crypto.randomUUID());
    await sleep(3000);
    a.freeze();
    await sleep(FREEZE_MS);
    a.thaw();
    await sleep(3000);
    const sent = await load.stop();
    expectEach(await receivedAtLon(tenant, sent), sent, true);
    await groupServedBy(2);
    expectAlive([a, b]);
  }, 240_000);

  for (const freezeAfter of [1, 1500]) {
    it(`one instance frozen during a burst, mid-transaction (after ${freezeAfter} records): no duplicate, none missing`, async () => {
      const tenant = crypto.randomUUID();
      const group = crypto.randomUUID();
      const started = forwarding(freezeAfter);
      const publishing = (async () => {
        const sent: CallCompleted[] = [];
        for (let round = 0; round < 6; round++) sent.push(...(await publishCalls(nyc, 500, tenant, group)));
        return sent;
      })();
      await started;
      b.freeze();
      await sleep(FREEZE_MS);
      b.thaw();
      const sent = await publishing;
      expectEach(await receivedAtLon(tenant, sent), sent, true);
      await groupServedBy(2);
      expectAlive([a, b]);
    }, 240_000);
  }

  it("one instance SIGKILLed during steady load: no duplicate, none missing", async () => {
    const tenant = crypto.randomUUID();
    const load = steadyLoad(tenant, crypto.randomUUID());
    await sleep(3000);
    await a.kill();
    await sleep(SESSION_MS + 3000);
    const sent = await load.stop();
    expectEach(await receivedAtLon(tenant, sent), sent, true);
    await b.stop();
  }, 240_000);
});

describe("several bridge instances, failures at once", () => {
  it("exactly-once, three instances: one killed and one frozen, the target broker restarted meanwhile", async () => {
    const [a, b, c] = await startInstances("exactly-once", ["lon-a", "lon-b", "lon-c"]);
    const tenant = crypto.randomUUID();
    const load = steadyLoad(tenant, crypto.randomUUID());
    await sleep(3000);
    await a!.kill();
    b!.freeze();
    const frozenAt = Date.now();
    await test.stop("lon", "kafka");
    await sleep(3000);
    await test.start("lon", "kafka");
    await sleep(Math.max(0, frozenAt + FREEZE_MS - Date.now()));
    b!.thaw();
    await sleep(3000);
    const sent = await load.stop();
    expectEach(await receivedAtLon(tenant, sent), sent, true);
    expectAlive([b!, c!]);
    await Promise.all([b!.stop(), c!.stop()]);
  }, 300_000);

  it("at-least-once, two instances: one frozen past its session: none lost", async () => {
    const [a, b] = await startInstances("at-least-once", ["lon-a", "lon-b"]);
    const tenant = crypto.randomUUID();
    const load = steadyLoad(tenant, crypto.randomUUID());
    await sleep(3000);
    a!.freeze();
    await sleep(FREEZE_MS);
    a!.thaw();
    await sleep(3000);
    const sent = await load.stop();
    expectEach(await receivedAtLon(tenant, sent), sent, false);
    expectAlive([a!, b!]);
    await Promise.all([a!.stop(), b!.stop()]);
  }, 240_000);
});

describe("exactly-once writers of one source partition in two instances", () => {
  it("the new owner's writer fences the previous owner before it reads the target's position", async () => {
    const kafka = kafkaFor(lon);
    const admin = kafka.admin();
    await admin.connect();
    const topic = `eos-fence-${crypto.randomUUID()}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const ids = { transactionalId: () => `eos-fence-${topic}`, eosGroupId: `eos-fence-${topic}` };
    const at = { topic: CALLS_TOPIC, partition: 0 };
    const previous = new ExactlyOnceDelivery(kafka, admin, ids, testLogger("previous"), 1);
    const next = new ExactlyOnceDelivery(kafka, admin, ids, testLogger("next"), 1);
    const batch = (value: string) => [[{ topic, messages: [{ partition: 0, value }] }]];
    try {
      const old = await previous.writer(at);
      await old.deliver(batch("0"), "1");
      // Another instance takes the partition (the previous one froze past its session): from then on, the
      // previous owner's writes are refused, so that the position the new writer read stays true.
      const taken = await next.writer(at);
      expect(taken.resumeFrom).toBe(1n);
      await expect(old.deliver(batch("1"), "2")).rejects.toThrow(FencedError);
      await taken.deliver(batch("1"), "2");
      const values = (await readTopic(lon, topic, { count: 2, idleMs: 1500 })).map((m) =>
        m.value?.toString(),
      );
      expect(values).toEqual(["0", "1"]);
    } finally {
      await Promise.all([previous.disconnect(), next.disconnect()]);
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  }, 60_000);
});
