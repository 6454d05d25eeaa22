import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CALLS_TOPIC, DLQ_TOPIC, buildHeaders } from "@tandem/events";
import { DLQ_HEADERS } from "@tandem/kafka";
import type { Kafka } from "kafkajs";
import type { LinkConfig } from "@tandem/config";
import { runBridge } from "../../services/bridge/src";
import { AtLeastOnceDelivery } from "../../services/bridge/src/link/at-least-once";
import { kafkaFor, readTopic } from "../support/clients";
import { callsAt, orderByPartition, publishCalls, waitFor } from "../support/events";
import { testLogger } from "../support/logger";
import { exited, killHard, spawnTandem } from "../support/processes";
import { stack } from "../support/stack";
import { link, topologyOf, writeTopologyFile } from "../support/topology";

const test = await stack();
const nyc = test.site("nyc");
const lon = test.site("lon");
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-bridge-faults-"));
const remote = `nyc.${CALLS_TOPIC}`;
const backoff = { initialMs: 200, maxMs: 2000, multiplier: 2, jitter: 0.5 };

afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

function topologyFile(name: string, links: LinkConfig[]): string {
  const file = path.join(workDir, `${name}.yaml`);
  writeTopologyFile(file, topologyOf([nyc, lon], links));
  return file;
}

describe("bridge faults against real clusters", () => {
  it("target broker stopped mid-stream: the link waits, resumes by itself, nothing is lost, order kept", async () => {
    const bridge = await runBridge({
      topology: topologyOf([nyc, lon], [link("nyc", "lon")]),
      logger: testLogger("bridge"),
      backoff,
    });
    try {
      const tenant = crypto.randomUUID();
      const group = crypto.randomUUID();
      const before = await publishCalls(nyc, 50, tenant, group);
      await waitFor(
        () => callsAt(lon, remote, tenant),
        (c) => c.length >= 50,
      );
      await test.stop("lon", "kafka");
      let during: Awaited<ReturnType<typeof publishCalls>> = [];
      try {
        during = await publishCalls(nyc, 100, tenant, group);
        await waitFor(
          async () => bridge.status()[0]!.state,
          (state) => state === "down",
          60_000,
        );
        expect(bridge.status()[0]!.state).toBe("down");
        // What waits for the target ages, although no batch completes.
        const waiting = await waitFor(
          async () => bridge.status()[0]!.lagSeconds,
          (seconds) => seconds >= 2,
          30_000,
        );
        expect(waiting).toBeGreaterThanOrEqual(2);
      } finally {
        await test.start("lon", "kafka");
      }
      const after = await publishCalls(nyc, 50, tenant, group);
      const sent = [...before, ...during, ...after];
      const received = await waitFor(
        () => callsAt(lon, remote, tenant),
        (c) => new Set(c.map((x) => x.event.eventId)).size >= sent.length,
        120_000,
      );
      expect(new Set(received.map((c) => c.event.eventId))).toEqual(new Set(sent.map((e) => e.eventId)));
      expect(bridge.status()[0]!.state).toBe("running");
      expect(
        await waitFor(
          async () => bridge.status()[0]!.lagSeconds,
          (seconds) => seconds === 0,
        ),
      ).toBe(0);

      expect(orderByPartition(received)).toEqual(orderByPartition(await callsAt(nyc, CALLS_TOPIC, tenant)));
    } finally {
      await bridge.stop();
    }
  });

  it("an upstream site's topic that appears at the source as its broker comes back is forwarded", async () => {
    // A new site upstream of lon, linked to it by a bridge elsewhere: its events reach lon in a new topic.
    const upstream = `x${crypto.randomUUID().slice(0, 8)}`;
    const bridge = await runBridge({
      topology: topologyOf(
        [nyc, lon, { ...test.site("sfo"), site: upstream }],
        [link(upstream, "lon"), link("lon", "nyc")],
      ),
      selectLinks: (l) => l.from === "lon",
      logger: testLogger("bridge"),
      backoff,
      topicRefreshMs: 1000,
    });
    try {
      await waitFor(
        async () => bridge.status()[0]!.state,
        (state) => state === "running",
        60_000,
      );
      // The source consumer crashes while lon's Kafka is down. Once it is back, the group still holds the
      // consumer's previous member for a session (30 s), and the new topic makes the bridge resubscribe then.
      await test.stop("lon", "kafka");
      let stateWhileDown: string | undefined;
      try {
        stateWhileDown = await waitFor(
          async () => bridge.status()[0]!.state,
          (state) => state === "down",
          60_000,
        );
      } finally {
        await test.start("lon", "kafka");
      }
      expect(stateWhileDown).toBe("down");
      const tenant = crypto.randomUUID();
      const sent = await publishCalls(lon, 20, tenant, crypto.randomUUID(), upstream);
      const received = await waitFor(
        () => callsAt(nyc, `${upstream}.${CALLS_TOPIC}`, tenant),
        (calls) => calls.length >= sent.length,
        120_000,
      );
      expect(new Set(received.map((c) => c.event.eventId))).toEqual(new Set(sent.map((e) => e.eventId)));
    } finally {
      await bridge.stop();
    }
  }, 300_000);

  for (const delivery of ["at-least-once", "exactly-once"] as const) {
    it(`bridge SIGKILLed mid-stream and restarted (${delivery}): nothing lost${delivery === "exactly-once" ? ", no duplicate" : ""}`, async () => {
      const file = topologyFile(delivery, [link("nyc", "lon", { delivery })]);
      const logFile = path.join(workDir, `${delivery}.log`);
      const args = ["run", "--config", file, "--site", "lon", "--role", "bridge", "--instance", "kill-test"];
      const tenant = crypto.randomUUID();
      const group = crypto.randomUUID();
      const first = spawnTandem(args, logFile);
      const sent = [];
      try {
        for (let round = 0; round < 5; round++) sent.push(...(await publishCalls(nyc, 200, tenant, group)));
        await waitFor(
          () => callsAt(lon, remote, tenant),
          (c) => c.length > 0,
          90_000,
        );
      } finally {
        await killHard(first);
      }
      for (let round = 0; round < 3; round++) sent.push(...(await publishCalls(nyc, 100, tenant, group)));
      const second = spawnTandem(args, logFile);
      try {
        const received = await waitFor(
          () => callsAt(lon, remote, tenant),
          (c) => new Set(c.map((x) => x.event.eventId)).size >= sent.length,
          120_000,
        );
        expect(new Set(received.map((c) => c.event.eventId))).toEqual(new Set(sent.map((e) => e.eventId)));
        if (delivery === "exactly-once") expect(received).toHaveLength(sent.length);
      } finally {
        second.kill("SIGTERM");
        expect(await exited(second)).toBe(0);
      }
    });
  }

  it("a record whose schema cannot be translated goes to the source's DLQ and the link goes on", async () => {
    const tenant = crypto.randomUUID();
    const group = crypto.randomUUID();
    const kafka = kafkaFor(nyc);
    const producer = kafka.producer();
    await producer.connect();
    const eventId = crypto.randomUUID();
    const unknownSchema = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2, 3]);
    await producer.send({
      topic: CALLS_TOPIC,
      messages: [
        {
          key: eventId,
          value: unknownSchema,
          headers: buildHeaders({ eventId, origin: "nyc", tenantId: tenant, groupId: group }),
        },
      ],
    });
    await producer.disconnect();
    const valid = await publishCalls(nyc, 5, tenant, group);
    const bridge = await runBridge({
      topology: topologyOf([nyc, lon], [link("nyc", "lon")]),
      logger: testLogger("bridge"),
      backoff,
    });
    try {
      const received = await waitFor(
        () => callsAt(lon, remote, tenant),
        (c) => c.length >= 5,
      );
      expect(received.map((c) => c.event.eventId).sort()).toEqual(valid.map((e) => e.eventId).sort());
      const dead = await waitFor(
        async () =>
          (await readTopic(nyc, DLQ_TOPIC, { idleMs: 1500 })).filter((m) => m.key?.toString() === eventId),
        (m) => m.length > 0,
      );
      expect(dead[0]!.value).toEqual(unknownSchema);
      expect(dead[0]!.headers?.[DLQ_HEADERS.reason]?.toString()).toMatch(/schema id \d+ is unknown/);
    } finally {
      await bridge.stop();
    }
  });

  it("partitions delivering together share one produce request, and one refused does not hold the others", async () => {
    const accepting = `accepting-${crypto.randomUUID()}`;
    const refusing = `refusing-${crypto.randomUUID()}`;
    const real = kafkaFor(lon);
    const admin = real.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: accepting, numPartitions: 3 },
        // Kafka refuses a batch larger than this with MESSAGE_TOO_LARGE, which no retry changes.
        { topic: refusing, numPartitions: 1, configEntries: [{ name: "max.message.bytes", value: "1024" }] },
      ],
      waitForLeaders: true,
    });
    await admin.disconnect();
    let produceRequests = 0;
    const counted = {
      producer: (config) => {
        const producer = real.producer(config);
        producer.on(producer.events.REQUEST, ({ payload }) => {
          if (payload.apiName === "Produce") produceRequests++;
        });
        return producer;
      },
    } as Pick<Kafka, "producer"> as Kafka;
    const delivery = new AtLeastOnceDelivery(counted, 3);
    const request = (topic: string, partition: number, value: string) => [
      [{ topic, messages: [{ partition, value }] }],
    ];
    try {
      await delivery.connect();
      const writer = await delivery.writer();
      await Promise.all([0, 1, 2].map((p) => writer.deliver(request(accepting, p, `first ${p}`), "1")));
      expect(produceRequests).toBe(1);

      const outcomes = await Promise.allSettled([
        writer.deliver(request(accepting, 0, "second 0"), "2"),
        writer.deliver(request(refusing, 0, "x".repeat(4096)), "1"),
        writer.deliver(request(accepting, 1, "second 1"), "2"),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/larger than/);

      const written = await readTopic(lon, accepting, { idleMs: 1500 });
      expect(written.map((m) => `${m.partition}: ${m.value?.toString()}`).sort()).toEqual([
        "0: first 0",
        "0: second 0",
        "1: first 1",
        "1: second 1",
        "2: first 2",
      ]);
      expect(await readTopic(lon, refusing, { idleMs: 1000 })).toEqual([]);
    } finally {
      await delivery.disconnect();
    }
  });
});
