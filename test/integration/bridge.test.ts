import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { CALLS_TOPIC } from "@tandem/events";
import { ensureSiteTopics } from "@tandem/kafka";
import { bridgeGroupId, LINK_METRICS } from "@tandem/replication";
import { retryWithBackoff } from "@tandem/runtime";
import { runBridge, type RunningBridge } from "../../services/bridge/src";
import { kafkaFor } from "../support/clients";
import { callsAt, publishCalls, waitFor } from "../support/events";
import { testLogger } from "../support/logger";
import { stack } from "../support/stack";
import { link, topologyOf, twoWay } from "../support/topology";
import { DEFAULT_TUNING, type LinkConfig, type Tuning } from "@tandem/config";

const test = await stack();
const [nyc, lon, sfo] = ["nyc", "lon", "sfo"].map((id) => test.site(id)) as [
  ReturnType<typeof test.site>,
  ReturnType<typeof test.site>,
  ReturnType<typeof test.site>,
];
const running: RunningBridge[] = [];

async function bridge(
  links: LinkConfig[],
  { tuning, ...options }: { now?: () => Date; opsPort?: number; instanceId?: string; tuning?: Tuning } = {},
) {
  const started = await runBridge({
    topology: { ...topologyOf([nyc, lon, sfo], links), tuning },
    logger: testLogger("bridge"),
    heartbeatIntervalMs: 1000,
    topicRefreshMs: 3000,
    backoff: { initialMs: 200, maxMs: 2000, multiplier: 2, jitter: 0.5 },
    ...options,
  });
  running.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((b) => b.stop()));
});

const remote = (origin: string) => `${origin}.${CALLS_TOPIC}`;
const eventIds = (calls: Array<{ event: { eventId: string } }>) => calls.map((c) => c.event.eventId).sort();
const sentIds = (events: Array<{ eventId: string }>) => events.map((e) => e.eventId).sort();

describe("bridge between real clusters", () => {
  it("two-way: each site receives the other's calls once, decoded with its own registry, and none come back", async () => {
    await bridge(twoWay("nyc", "lon"));
    const [fromNyc, fromLon] = await Promise.all([publishCalls(nyc, 20), publishCalls(lon, 20)]);
    const tenantNyc = fromNyc[0]!.tenantId;
    const tenantLon = fromLon[0]!.tenantId;
    const atLon = await waitFor(
      () => callsAt(lon, remote("nyc"), tenantNyc),
      (c) => c.length >= 20,
    );
    const atNyc = await waitFor(
      () => callsAt(nyc, remote("lon"), tenantLon),
      (c) => c.length >= 20,
    );
    expect(eventIds(atLon)).toEqual(sentIds(fromNyc));
    expect(eventIds(atNyc)).toEqual(sentIds(fromLon));
    expect(atLon.map((c) => c.event)).toEqual(expect.arrayContaining(fromNyc));
    expect(atLon.every((c) => c.path.join(",") === "nyc,lon")).toBe(true);
    expect(atLon[0]!.message.key?.toString()).toBe(atLon[0]!.event.callId);
    expect(await callsAt(nyc, remote("nyc"), tenantNyc)).toHaveLength(0);
    expect(await callsAt(lon, remote("lon"), tenantLon)).toHaveLength(0);
  });

  it("chain nyc-lon-sfo: sfo gets nyc's calls through lon, once, as nyc.calls.completed", async () => {
    await bridge([...twoWay("nyc", "lon"), ...twoWay("lon", "sfo")]);
    const sent = await publishCalls(nyc, 10);
    const tenant = sent[0]!.tenantId;
    const atSfo = await waitFor(
      () => callsAt(sfo, remote("nyc"), tenant),
      (c) => c.length >= 10,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const settled = await callsAt(sfo, remote("nyc"), tenant);
    expect(eventIds(settled)).toEqual(sentIds(sent));
    expect(atSfo.every((c) => c.path.join(",") === "nyc,lon,sfo")).toBe(true);
    expect(await callsAt(sfo, `lon.${CALLS_TOPIC}`, tenant)).toHaveLength(0);
  });

  it("full mesh of three: every call reaches every other site exactly once per site topic", async () => {
    await bridge([...twoWay("nyc", "lon"), ...twoWay("lon", "sfo"), ...twoWay("nyc", "sfo")]);
    const sent = {
      nyc: await publishCalls(nyc, 8),
      lon: await publishCalls(lon, 8),
      sfo: await publishCalls(sfo, 8),
    };
    const sites = { nyc, lon, sfo };
    for (const [origin, events] of Object.entries(sent)) {
      for (const [id, site] of Object.entries(sites)) {
        if (id === origin) continue;
        const tenant = events[0]!.tenantId;
        await waitFor(
          () => callsAt(site, remote(origin), tenant),
          (c) => c.length >= 8,
        );
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const [origin, events] of Object.entries(sent)) {
      for (const [id, site] of Object.entries(sites)) {
        const received = await callsAt(site, remote(origin), events[0]!.tenantId);
        expect(eventIds(received), `${origin} at ${id}`).toEqual(id === origin ? [] : sentIds(events));
      }
    }
  });

  it("filters by tenant and group: a filtered call never reaches the target", async () => {
    const deniedTenant = randomUUID();
    const allowedGroup = randomUUID();
    await bridge([
      link("nyc", "lon", {
        filters: { tenants: { deny: [deniedTenant] }, groups: { allow: [allowedGroup], deny: [] } },
      }),
    ]);
    const denied = await publishCalls(nyc, 5, deniedTenant, allowedGroup);
    const otherGroup = await publishCalls(nyc, 5);
    const passing = await publishCalls(nyc, 5, randomUUID(), allowedGroup);
    await waitFor(
      () => callsAt(lon, remote("nyc"), passing[0]!.tenantId),
      (c) => c.length >= 5,
    );
    expect(await callsAt(lon, remote("nyc"), deniedTenant)).toHaveLength(0);
    expect(await callsAt(lon, remote("nyc"), otherGroup[0]!.tenantId)).toHaveLength(0);
    expect(denied).toHaveLength(5);
  });

  it("a time window pauses the link outside it and keeps its position", async () => {
    let now = new Date("2026-11-25T12:00:00Z");
    const started = await bridge(
      [
        link("nyc", "lon", {
          schedule: {
            kind: "windows",
            timeZone: "Europe/London",
            windows: [{ start: "22:00", end: "06:00" }],
          },
        }),
      ],
      { now: () => now },
    );
    await waitFor(
      async () => started.status()[0]!.state,
      (state) => state === "paused",
      30_000,
    );
    const sent = await publishCalls(nyc, 5);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(await callsAt(lon, remote("nyc"), sent[0]!.tenantId)).toHaveLength(0);
    now = new Date("2026-11-25T23:00:00Z");
    const arrived = await waitFor(
      () => callsAt(lon, remote("nyc"), sent[0]!.tenantId),
      (c) => c.length >= 5,
    );
    expect(eventIds(arrived)).toEqual(sentIds(sent));
  });

  it("a manual link moves only on an operator's catch-up (HTTP), then stops when caught up", async () => {
    const started = await bridge([link("nyc", "lon", { schedule: { kind: "manual" } })], { opsPort: 0 });
    await waitFor(
      async () => started.status()[0]!.state,
      (state) => state === "paused",
      30_000,
    );
    const first = await publishCalls(nyc, 5);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await callsAt(lon, remote("nyc"), first[0]!.tenantId)).toHaveLength(0);

    const response = await fetch(`http://127.0.0.1:${started.opsPort}/links/nyc-lon/catch-up`, {
      method: "POST",
    });
    expect(response.status).toBe(202);
    const arrived = await waitFor(
      () => callsAt(lon, remote("nyc"), first[0]!.tenantId),
      (c) => c.length >= 5,
    );
    expect(eventIds(arrived)).toEqual(sentIds(first));
    await waitFor(
      async () => started.status()[0]!,
      (s) => !s.catchUpRequested && s.state === "paused",
      30_000,
    );

    const second = await publishCalls(nyc, 3);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await callsAt(lon, remote("nyc"), second[0]!.tenantId)).toHaveLength(0);
  });

  it("several instances of one link share its partitions as members of one consumer group", async () => {
    await bridge([link("nyc", "lon")], { instanceId: "a" });
    await bridge([link("nyc", "lon")], { instanceId: "b" });
    const admin = kafkaFor(nyc).admin();
    await admin.connect();
    const members = await waitFor(
      async () => (await admin.describeGroups(["tandem-bridge.nyc-lon"])).groups[0]!.members,
      (m) => m.length === 2 && m.every((member) => member.memberAssignment.length > 0),
      60_000,
    );
    await admin.disconnect();
    expect(members).toHaveLength(2);
    const sent = await publishCalls(nyc, 30);
    const arrived = await waitFor(
      () => callsAt(lon, remote("nyc"), sent[0]!.tenantId),
      (c) => c.length >= 30,
    );
    expect(new Set(eventIds(arrived))).toEqual(new Set(sentIds(sent)));
  });

  it("one process runs several consumers of an at-least-once link, and one of an exactly-once link", async () => {
    const tuning = { ...DEFAULT_TUNING, bridge: { ...DEFAULT_TUNING.bridge, consumersPerLink: 3 } };
    await bridge([link("nyc", "lon"), link("lon", "nyc", { delivery: "exactly-once" })], { tuning });
    const admin = kafkaFor(nyc).admin();
    await admin.connect();
    const lonAdmin = kafkaFor(lon).admin();
    await lonAdmin.connect();
    try {
      const members = await waitFor(
        async () => (await admin.describeGroups(["tandem-bridge.nyc-lon"])).groups[0]!.members,
        (m) => m.length === 3 && m.every((member) => member.memberAssignment.length > 0),
        60_000,
      );
      expect(members).toHaveLength(3);
      const exactlyOnceMembers = await waitFor(
        async () => (await lonAdmin.describeGroups(["tandem-bridge.lon-nyc"])).groups[0]!.members,
        (m) => m.length > 0,
        60_000,
      );
      expect(exactlyOnceMembers).toHaveLength(1);
    } finally {
      await Promise.all([admin.disconnect(), lonAdmin.disconnect()]);
    }
    const sent = await publishCalls(nyc, 60);
    const arrived = await waitFor(
      () => callsAt(lon, remote("nyc"), sent[0]!.tenantId),
      (c) => c.length >= 60,
    );
    // Every partition read by one member each: every call once, none twice.
    expect(eventIds(arrived)).toEqual(sentIds(sent));
  });

  it("counts the records it reads again that the target holds, and an event id it delivers twice", async () => {
    const exactlyOnce = link("nyc", "lon", { delivery: "exactly-once" });
    const tenant = randomUUID();
    const admin = kafkaFor(nyc).admin();
    await admin.connect();
    try {
      await ensureSiteTopics(admin);
      // A topic just created may not have its leader known to the broker for a moment.
      const before = await retryWithBackoff(() => admin.fetchTopicOffsets(CALLS_TOPIC), { maxAttempts: 8 });
      const first = await bridge([exactlyOnce]);
      await publishCalls(nyc, 5, tenant);
      await waitFor(
        () => callsAt(lon, remote("nyc"), tenant),
        (c) => c.length >= 5,
      );
      await first.stop();
      running.splice(running.indexOf(first), 1);
      // The source group's position goes back before the 5 calls, as after a commit lost in a crash.
      await admin.setOffsets({
        groupId: bridgeGroupId(exactlyOnce),
        topic: CALLS_TOPIC,
        partitions: before.map((p) => ({ partition: p.partition, offset: p.high })),
      });
      const second = await bridge([exactlyOnce], { opsPort: 0 });
      const counter = async (name: string, labels = "") => {
        const text = await (await fetch(`http://127.0.0.1:${second.opsPort}/metrics`)).text();
        return Number(new RegExp(`^${name}\\{link="nyc->lon"${labels}\\} (\\d+)`, "m").exec(text)?.[1] ?? 0);
      };
      // Per topic: a heartbeat whose source commit the first bridge did not make before stopping is read
      // again too, and counted under its own topic.
      expect(
        await waitFor(
          () => counter(LINK_METRICS.alreadyDelivered, `,topic="${CALLS_TOPIC}"`),
          (n) => n >= 5,
        ),
      ).toBe(5);

      // A recorder that retried after a lost acknowledgement: the same event twice in the source.
      const [twin] = await publishCalls(nyc, 1, tenant);
      await waitFor(
        () => callsAt(lon, remote("nyc"), tenant),
        (c) => c.length >= 6,
      );
      const original = (await callsAt(nyc, CALLS_TOPIC, tenant)).find(
        (c) => c.event.eventId === twin!.eventId,
      )!;
      const producer = kafkaFor(nyc).producer();
      await producer.connect();
      await producer.send({
        topic: CALLS_TOPIC,
        acks: -1,
        messages: [
          {
            key: original.message.key,
            value: original.message.value,
            headers: original.message.headers,
            partition: original.partition,
          },
        ],
      });
      await producer.disconnect();
      expect(
        await waitFor(
          () => counter(LINK_METRICS.duplicatesSeen),
          (n) => n >= 1,
        ),
      ).toBe(1);
      const atLon = await callsAt(lon, remote("nyc"), tenant);
      expect(atLon.filter((c) => c.event.eventId === twin!.eventId)).toHaveLength(2);
      expect(atLon).toHaveLength(7);
    } finally {
      await admin.disconnect();
    }
  });

  it("serves Prometheus metrics and health per link", async () => {
    const started = await bridge([link("nyc", "lon")], { opsPort: 0 });
    await publishCalls(nyc, 3);
    await waitFor(
      async () => started.status()[0]!.lastForwardedAt,
      (at) => at !== undefined,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${started.opsPort}/metrics`)).text();
    expect(metrics).toMatch(/tandem_link_records_forwarded_total\{link="nyc->lon"\} [1-9]/);
    expect(metrics).toMatch(/tandem_link_state\{link="nyc->lon",state="running"\} 1/);
    const health = await fetch(`http://127.0.0.1:${started.opsPort}/healthz`);
    expect(health.status).toBe(200);
    expect(
      ((await health.json()) as { details: { links: Array<{ link: string }> } }).details.links[0]!.link,
    ).toBe("nyc->lon");
  });
});
