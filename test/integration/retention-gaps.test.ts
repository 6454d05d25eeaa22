import { randomUUID } from "node:crypto";
import kafkajs, { type Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLS_TOPIC, GAPS_TOPIC, USERS_TOPIC, DLQ_TOPIC } from "@tandem/events";
import {
  REPLICATED_TOPIC_CONFIGS,
  ensureSiteTopics,
  ensureTopics,
  explicitTopicConfig,
  groupLagRecords,
  setTopicConfig,
  topicRetentionMs,
} from "@tandem/kafka";
import { LINK_METRICS, MATERIALIZER_METRICS, bridgeGroupId, metricSamples } from "@tandem/replication";
import { runBridge, TargetTopicSync } from "../../services/bridge/src";
import { runMaterializer } from "../../services/materializer/src";

import { DEFAULT_THRESHOLDS, acknowledgeGaps, openGaps, collectStatus } from "@tandem/operations";
import { kafkaFor } from "../support/clients";
import { freshDatabase } from "../support/databases";
import { callsAt, publishCalls, waitFor } from "../support/events";
import pg from "pg";
import { testLogger } from "../support/logger";
import { stack } from "../support/stack";
import { link, topologyOf } from "../support/topology";

const { ConfigResourceTypes } = kafkajs;
const test = await stack();
const [nyc, lon, sfo] = ["nyc", "lon", "sfo"].map((id) => test.site(id)) as [
  ReturnType<typeof test.site>,
  ReturnType<typeof test.site>,
  ReturnType<typeof test.site>,
];
const admins: Admin[] = [];

async function adminOf(site: typeof nyc): Promise<Admin> {
  const admin = kafkaFor(site).admin();
  await admin.connect();
  admins.push(admin);
  return admin;
}

/** A topic's settings among those Tandem sets or copies, when set on the topic itself. */
const explicitConfig = async (admin: Admin, topic: string) =>
  Object.fromEntries(await explicitTopicConfig(admin, topic, REPLICATED_TOPIC_CONFIGS));

/** A site id for records relayed into sfo from a site outside the topology: its own topic, nobody else's. */
const upstreamSite = () => `up${randomUUID().slice(0, 8)}`;

let sfoAdmin: Admin;
let lonAdmin: Admin;
beforeAll(async () => {
  sfoAdmin = await adminOf(sfo);
  lonAdmin = await adminOf(lon);
});

afterAll(async () => {
  await Promise.all(admins.map((admin) => admin.disconnect()));
});

describe("retention is part of the contract", () => {
  it("a site's event topics and DLQ keep every record; tandem.gaps is compacted", async () => {
    await ensureSiteTopics(sfoAdmin);
    for (const topic of [CALLS_TOPIC, USERS_TOPIC, DLQ_TOPIC]) {
      expect((await explicitConfig(sfoAdmin, topic))["retention.ms"], topic).toBe("-1");
    }
    expect(await explicitConfig(sfoAdmin, GAPS_TOPIC)).toMatchObject({
      "cleanup.policy": "compact",
      "retention.ms": "-1",
    });
  });

  it("a remote topic takes its source's retention, cleanup policy and record size, or keeps everything", async () => {
    const [set, inherited] = [upstreamSite(), upstreamSite()].map((origin) => `${origin}.${CALLS_TOPIC}`) as [
      string,
      string,
    ];
    await ensureTopics(sfoAdmin, [
      {
        topic: set,
        numPartitions: 2,
        configEntries: [
          { name: "retention.ms", value: "86400000" },
          { name: "max.message.bytes", value: "2097152" },
          { name: "cleanup.policy", value: "delete" },
        ],
      },
      { topic: inherited, numPartitions: 1 },
    ]);
    const sync = new TargetTopicSync(sfoAdmin, lonAdmin);
    expect(await sync.targetPartition(set, set, 3)).toBe(1);
    await sync.targetPartition(inherited, inherited, 0);
    expect(await explicitConfig(lonAdmin, set)).toMatchObject({
      "retention.ms": "86400000",
      "max.message.bytes": "2097152",
      "cleanup.policy": "delete",
    });
    expect((await explicitConfig(lonAdmin, inherited))["retention.ms"]).toBe("-1");
  });
  it("a remote topic takes later changes of its source's settings, keeping its own other settings", async () => {
    const topic = `${upstreamSite()}.${CALLS_TOPIC}`;
    await ensureTopics(sfoAdmin, [{ topic, numPartitions: 1 }]);
    const sync = new TargetTopicSync(sfoAdmin, lonAdmin);
    await sync.targetPartition(topic, topic, 0);
    expect(await sync.syncConfigs()).toEqual([]);
    await setTopicConfig(
      lonAdmin,
      topic,
      new Map([
        ["retention.ms", "-1"],
        ["min.insync.replicas", "1"],
      ]),
    );
    await setTopicConfig(sfoAdmin, topic, new Map([["retention.ms", "3600000"]]));
    await waitFor(
      () => explicitConfig(sfoAdmin, topic),
      (config) => config["retention.ms"] === "3600000",
    );
    expect(await sync.syncConfigs()).toEqual([topic]);
    const synced = await waitFor(
      async () => Object.fromEntries(await explicitTopicConfig(lonAdmin, topic)),
      (config) => config["retention.ms"] === "3600000",
    );
    expect(synced).toMatchObject({ "retention.ms": "3600000", "min.insync.replicas": "1" });
  });

  it("status warns when a source keeps records for less time than its link's schedule can stay closed", async () => {
    // A change acknowledged by the controller reaches the broker's view through the metadata log, later
    // under load: the broker is asked until it shows the change.
    const setRetention = async (value: string) => {
      await sfoAdmin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: USERS_TOPIC,
            configEntries: [{ name: "retention.ms", value }],
          },
        ],
      });
      const applied = await waitFor(
        () => topicRetentionMs(sfoAdmin, USERS_TOPIC),
        (ms) => ms === Number(value),
      );
      expect(applied).toBe(Number(value));
    };
    await ensureSiteTopics(sfoAdmin);
    await setRetention(String(30 * 86_400_000));
    try {
      const topology = topologyOf([lon, sfo], [link("sfo", "lon", { schedule: { kind: "manual" } })]);
      const report = await collectStatus(topology, DEFAULT_THRESHOLDS);
      expect(report.links[0]?.retentionRisks).toEqual([
        `${USERS_TOPIC} at sfo: records are kept 30 days, but the manual schedule can leave them unread until an operator's catch-up`,
      ]);
    } finally {
      await setRetention("-1");
    }
  });
});

describe("a gap is never silent", () => {
  it("records deleted at the source while its link was stopped are reported until acknowledged", async () => {
    // nyc's calls relayed through sfo to lon: the records of sfo's nyc.calls.completed that the link has not
    // read yet are deleted, as retention would delete them, while the link is stopped.
    const topic = `nyc.${CALLS_TOPIC}`;
    const topology = topologyOf([nyc, lon, sfo], [link("nyc", "sfo"), link("sfo", "lon")]);
    const groupId = bridgeGroupId({ from: "sfo", to: "lon" });
    const bridge = () =>
      runBridge({
        topology,
        selectLinks: (l) => l.from === "sfo",
        logger: testLogger("bridge"),
        opsPort: 0,
        heartbeatIntervalMs: 1000,
        topicRefreshMs: 1000,
        backoff: { initialMs: 200, maxMs: 2000, multiplier: 2, jitter: 0.5 },
      });
    const startedAt = new Date().toISOString();
    const tenant = randomUUID();
    await publishCalls(sfo, 1, randomUUID(), randomUUID(), "nyc");
    const first = await bridge();
    await first.ready;
    await publishCalls(sfo, 20, tenant, randomUUID(), "nyc");
    await waitFor(
      () => groupLagRecords(sfoAdmin, groupId, [topic]),
      (lag) => lag === 0,
    );
    await first.stop();
    const [committed] = await sfoAdmin.fetchOffsets({ groupId, topics: [topic] });

    await publishCalls(sfo, 30, tenant, randomUUID(), "nyc");
    // Per partition, all but the newest of the records the link has not read are deleted.
    const expected = (await sfoAdmin.fetchTopicOffsets(topic)).flatMap(({ partition, high }) => {
      const from = BigInt(committed!.partitions.find((p) => p.partition === partition)!.offset);
      const to = BigInt(high) - 2n;
      return to >= from
        ? [{ partition, firstOffset: String(from), lastOffset: String(to), count: Number(to - from + 1n) }]
        : [];
    });
    expected.sort((a, b) => a.partition - b.partition);
    const lost = expected.reduce((sum, range) => sum + range.count, 0);
    expect(lost).toBeGreaterThan(0);
    // kafkajs looks the partitions' leaders up in its cached metadata, which may not have seen the topic yet.
    await sfoAdmin.fetchTopicMetadata({ topics: [topic] });
    await sfoAdmin.deleteTopicRecords({
      topic,
      partitions: expected.map((range) => ({
        partition: range.partition,
        offset: String(BigInt(range.lastOffset) + 1n),
      })),
    });

    const second = await bridge();
    try {
      await second.ready;
      const received = await waitFor(
        () => callsAt(lon, topic, tenant),
        (calls) => calls.length >= 50 - lost,
      );
      expect(received).toHaveLength(50 - lost);
      const gapsOfTest = async () =>
        (await openGaps(kafkaFor(sfo))).filter((gap) => gap.topic === topic && gap.detectedAt >= startedAt);
      const gaps = await waitFor(gapsOfTest, (found) => found.length >= expected.length);
      expect(
        gaps
          .map(({ partition, firstOffset, lastOffset, count }) => ({
            partition,
            firstOffset,
            lastOffset,
            count,
          }))
          .sort((a, b) => a.partition - b.partition),
      ).toEqual(expected);
      expect(
        gaps.every(
          (gap) => gap.site === "sfo" && gap.component === "bridge sfo->lon" && gap.groupId === groupId,
        ),
      ).toBe(true);
      expect(second.status()[0]?.recordsLost).toBe(lost);
      const metrics = await (await fetch(`http://127.0.0.1:${second.opsPort}/metrics`)).text();
      const counted = metricSamples(metrics, LINK_METRICS.recordsLost).filter(
        (sample) => sample.labels.link === "sfo->lon" && sample.labels.topic === topic,
      );
      expect(counted.reduce((sum, sample) => sum + sample.value, 0)).toBe(lost);

      const before = await collectStatus(topology, DEFAULT_THRESHOLDS);
      expect(before.healthy).toBe(false);
      const linkBefore = before.links.find((l) => l.link === "sfo->lon");
      expect(linkBefore?.health).toBe("data-lost");
      expect(linkBefore?.why).toMatch(/^\d+ records deleted before it read them/);

      await acknowledgeGaps(kafkaFor(sfo), await openGaps(kafkaFor(sfo)), "accepted");
      expect(await gapsOfTest()).toEqual([]);
      const after = await collectStatus(topology, DEFAULT_THRESHOLDS);
      expect(after.links.find((l) => l.link === "sfo->lon")?.health).not.toBe("data-lost");
    } finally {
      await second.stop();
    }
  });
});

describe("a gap is never silent at a materializer either", () => {
  it("records deleted before the site's materializer applied them are counted, recorded and reported", async () => {
    // A topic of the test's own at sfo (records relayed from an upstream site), so nobody else's log shrinks.
    const upstream = upstreamSite();
    const topic = `${upstream}.${CALLS_TOPIC}`;
    const tenant = randomUUID();
    const database = await freshDatabase(sfo);
    const topology = topologyOf([sfo], []);
    topology.sites[0]!.postgres = { connectionString: database.url };
    const groupId = `gaps-test-${randomUUID()}`;
    const materializer = () =>
      runMaterializer({
        topology,
        siteId: "sfo",
        logger: testLogger("materializer"),
        metricsPort: 0,
        options: { consumer: { groupId, topicRefreshMs: 1000 } },
      });
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    const applied = async () =>
      Number(
        (await pool.query<{ n: string }>("SELECT count(*) AS n FROM calls WHERE tenant_id = $1", [tenant]))
          .rows[0]!.n,
      );
    const startedAt = new Date().toISOString();
    try {
      await publishCalls(sfo, 30, tenant, randomUUID(), upstream);
      const first = await materializer();
      await first.joined;
      expect(await waitFor(applied, (n) => n === 30, 60_000)).toBe(30);
      await first.stop();
      // The topic is the test's own, so the group's offsets cover the 30 calls once all are committed.
      const groupOffsets = async () => (await sfoAdmin.fetchOffsets({ groupId, topics: [topic] }))[0]!;
      const callsCovered = (offsets: Awaited<ReturnType<typeof groupOffsets>>) =>
        offsets.partitions.reduce((sum, { offset }) => sum + Math.max(0, Number(offset)), 0);
      const committed = await waitFor(groupOffsets, (offsets) => callsCovered(offsets) === 30, 30_000);
      expect(callsCovered(committed)).toBe(30);

      await publishCalls(sfo, 30, tenant, randomUUID(), upstream);
      const ends = await sfoAdmin.fetchTopicOffsets(topic);
      // Per partition, every record the materializer has not applied but the newest is deleted.
      const expected = ends.flatMap(({ partition, high }) => {
        const from = BigInt(committed.partitions.find((p) => p.partition === partition)!.offset);
        const to = BigInt(high) - 2n;
        return to >= from ? [{ partition, count: Number(to - from + 1n) }] : [];
      });
      const lost = expected.reduce((sum, range) => sum + range.count, 0);
      expect(lost).toBeGreaterThan(0);
      await sfoAdmin.fetchTopicMetadata({ topics: [topic] });
      await sfoAdmin.deleteTopicRecords({
        topic,
        partitions: ends.map(({ partition, high }) => ({ partition, offset: String(BigInt(high) - 1n) })),
      });

      const second = await materializer();
      try {
        await second.joined;
        expect(await waitFor(applied, (n) => n === 60 - lost, 60_000)).toBe(60 - lost);
        const gapsOfTest = async () =>
          (await openGaps(kafkaFor(sfo))).filter((gap) => gap.topic === topic && gap.detectedAt >= startedAt);
        const gaps = await waitFor(gapsOfTest, (found) => found.length >= expected.length);
        expect(
          gaps
            .map(({ partition, count }) => ({ partition, count }))
            .sort((a, b) => a.partition - b.partition),
        ).toEqual(expected.sort((a, b) => a.partition - b.partition));
        expect(gaps.every((gap) => gap.component === "materializer sfo" && gap.groupId === groupId)).toBe(
          true,
        );
        const metrics = await (await fetch(`http://127.0.0.1:${second.metricsPort}/metrics`)).text();
        const counted = metricSamples(metrics, MATERIALIZER_METRICS.recordsLost).filter(
          (sample) => sample.labels.topic === topic,
        );
        expect(counted.reduce((sum, sample) => sum + sample.value, 0)).toBe(lost);

        const report = await collectStatus(topology, DEFAULT_THRESHOLDS);
        expect(report.healthy).toBe(false);
        expect(
          report.sites[0]?.gaps.filter((gap) => gap.topic === topic).reduce((n, gap) => n + gap.count, 0),
        ).toBe(lost);
      } finally {
        await second.stop();
        await acknowledgeGaps(kafkaFor(sfo), await openGaps(kafkaFor(sfo)), "accepted");
      }
    } finally {
      await pool.end();
      await database.drop();
    }
  });
});
