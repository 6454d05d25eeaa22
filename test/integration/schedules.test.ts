import { randomUUID } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CALLS_TOPIC, parseHeaders, USERS_TOPIC } from "@tandem/events";
import { LINK_METRICS } from "@tandem/replication";
import { runBridge, type RunningBridge } from "../../services/bridge/src";
import { collectStatus, formatStatus, DEFAULT_THRESHOLDS } from "@tandem/operations";
import { readTopic, recorderAt } from "../support/clients";
import { callsAt, publishCalls, waitFor } from "../support/events";
import { testLogger } from "../support/logger";
import { stack } from "../support/stack";
import { link, topologyOf } from "../support/topology";
import type { LinkConfig } from "@tandem/config";

const test = await stack();
const [nyc, lon] = ["nyc", "lon"].map((id) => test.site(id)) as [
  ReturnType<typeof test.site>,
  ReturnType<typeof test.site>,
];
const running: RunningBridge[] = [];
const recorder = await recorderAt(nyc);
afterAll(() => recorder.close());

async function bridge(links: LinkConfig[], now?: () => Date) {
  const started = await runBridge({
    topology: topologyOf([nyc, lon], links),
    logger: testLogger("bridge"),
    heartbeatIntervalMs: 1000,
    topicRefreshMs: 3000,
    backoff: { initialMs: 200, maxMs: 2000, multiplier: 2, jitter: 0.5 },
    opsPort: 0,
    ...(now === undefined ? {} : { now }),
  });
  running.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((b) => b.stop()));
});

const eventIds = (events: Array<{ eventId: string }>) => events.map((e) => e.eventId).sort();
const settle = () => new Promise((resolve) => setTimeout(resolve, 4000));

async function editUsers(tenantId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const event = await recorder.publisher.publishUserChanged({
      userId: randomUUID(),
      tenantId,
      groupId: randomUUID(),
      operation: "UPSERT",
      changes: { name: `user ${i}` },
      baseVersion: {},
    });
    ids.push(event.eventId);
  }
  return ids.sort();
}

/** The event ids of one tenant's calls from nyc at lon, once at least `count` arrived (or a minute passed). */
async function callIdsAtLon(tenantId: string, count: number): Promise<string[]> {
  const calls = await waitFor(
    () => callsAt(lon, `nyc.${CALLS_TOPIC}`, tenantId),
    (c) => c.length >= count,
  );
  return calls.map((c) => c.event.eventId).sort();
}

async function untilPaused(started: RunningBridge): Promise<void> {
  await waitFor(
    async () => started.status()[0]!,
    (s) => !s.catchUpRequested && s.state === "paused",
    30_000,
  );
}

/** The event ids of one tenant's user edits that reached lon from nyc. */
async function userEditsAtLon(tenantId: string): Promise<string[]> {
  const messages = await readTopic(lon, `nyc.${USERS_TOPIC}`, { idleMs: 1500 }).catch(() => []);
  return messages
    .map((m) => parseHeaders(m.headers))
    .flatMap((h) => (h.ok && h.headers.tenantId === tenantId ? [h.headers.eventId] : []))
    .sort();
}

describe("schedules per stream, by weekday and periodic, on real clusters", () => {
  it("calls now, users on demand: calls flow while users wait for tandem replicate, then stop again", async () => {
    const tenant = randomUUID();
    const started = await bridge([link("nyc", "lon", { schedules: { users: { kind: "manual" } } })]);
    await waitFor(
      async () => started.status()[0]!,
      (s) => s.state === "running" && s.streams.some((stream) => stream.stream === "users" && !stream.open),
      30_000,
    );
    const users = await editUsers(tenant, 4);
    const calls = await publishCalls(nyc, 5, tenant);
    expect(await callIdsAtLon(tenant, 5)).toEqual(eventIds(calls));
    expect(await userEditsAtLon(tenant)).toEqual([]);

    const status = await collectStatus(
      topologyOf([nyc, lon], [link("nyc", "lon", { schedules: { users: { kind: "manual" } } })]),
      DEFAULT_THRESHOLDS,
    );
    const report = status.links.find((l) => l.link === "nyc->lon")!;
    expect(report.streams.map((s) => [s.stream, s.schedule, s.open])).toEqual([
      ["calls", "continuous", true],
      ["users", "manual", false],
    ]);
    expect(report.schedule).toBe("calls: continuous; users: manual");
    expect(formatStatus(status).join("\n")).toMatch(
      /STREAM SCHEDULES\n.*nyc->lon\s+calls\s+open\s+continuous/,
    );

    // What `tandem replicate --link nyc->lon --now` sends.
    const response = await fetch(`http://127.0.0.1:${started.opsPort}/links/nyc-lon/catch-up`, {
      method: "POST",
    });
    expect(response.status).toBe(202);
    expect(
      await waitFor(
        () => userEditsAtLon(tenant),
        (ids) => ids.length >= 4,
      ),
    ).toEqual(users);
    await waitFor(
      async () => started.status()[0]!,
      (s) => !s.catchUpRequested && s.streams.find((stream) => stream.stream === "users")?.open === false,
      30_000,
    );

    const later = await editUsers(tenant, 2);
    const moreCalls = await publishCalls(nyc, 3, tenant);
    await waitFor(
      () => callsAt(lon, `nyc.${CALLS_TOPIC}`, tenant),
      (c) => c.length >= 8,
    );
    await settle();
    const held = await userEditsAtLon(tenant);
    expect(held).toEqual(users);
    expect(held).not.toContain(later[0]);
    expect(moreCalls).toHaveLength(3);
  });

  it("a periodic link catches up at its tick and pauses again until the next", async () => {
    const tenant = randomUUID();
    let now = new Date("2026-11-25T10:20:00Z");
    const hourly = link("nyc", "lon", {
      schedule: { kind: "periodic", timeZone: "UTC", everyMs: 3_600_000 },
    });
    const started = await bridge([hourly], () => now);
    await untilPaused(started);
    expect(started.status()[0]!.streams[0]!.nextChange).toBe("2026-11-25T11:00:00.000Z");

    const first = await publishCalls(nyc, 5, tenant);
    await settle();
    expect(await callsAt(lon, `nyc.${CALLS_TOPIC}`, tenant)).toHaveLength(0);

    now = new Date("2026-11-25T11:00:00Z");
    expect(await callIdsAtLon(tenant, 5)).toEqual(eventIds(first));
    await untilPaused(started);
    expect(started.status()[0]!.streams[0]!.nextChange).toBe("2026-11-25T12:00:00.000Z");

    const second = await publishCalls(nyc, 3, tenant);
    await settle();
    expect(await callsAt(lon, `nyc.${CALLS_TOPIC}`, tenant)).toHaveLength(5);

    now = new Date("2026-11-25T12:00:30Z");
    expect(await callIdsAtLon(tenant, 8)).toEqual(eventIds([...first, ...second]));
  });

  it("a weekend window keeps the link closed on a Friday and open on Saturday, in the link's time zone", async () => {
    const tenant = randomUUID();
    // Friday 2026-11-27 23:30 in New York (04:30 UTC on Saturday): still a weekday there.
    let now = new Date("2026-11-28T04:30:00Z");
    const weekends = link("nyc", "lon", {
      schedule: {
        kind: "windows",
        timeZone: "America/New_York",
        windows: [{ start: "00:00", end: "24:00", days: ["sun", "sat"] }],
      },
    });
    const started = await bridge([weekends], () => now);
    await untilPaused(started);
    const sent = await publishCalls(nyc, 4, tenant);
    await settle();
    expect(await callsAt(lon, `nyc.${CALLS_TOPIC}`, tenant)).toHaveLength(0);

    now = new Date("2026-11-28T05:00:00Z"); // Saturday 00:00 in New York
    expect(await callIdsAtLon(tenant, 4)).toEqual(eventIds(sent));
  });

  it("a capped link forwards a backlog of records no faster than its cap", async () => {
    const tenant = randomUUID();
    const cap = 40_000;
    const capped = link("nyc", "lon", {
      streams: ["calls"],
      bandwidth: { timeZone: "UTC", bytesPerSecond: cap, windows: [] },
    });
    const sent = await publishCalls(nyc, 1000, tenant);
    const startedAt = Date.now();
    const started = await bridge([capped]);
    const metric = async (name: string) => {
      const text = await (await fetch(`http://127.0.0.1:${started.opsPort}/metrics`)).text();
      return Number(new RegExp(`^${name}\\{link="nyc->lon"\\} (\\d+)`, "m").exec(text)?.[1] ?? 0);
    };
    let forwardedAt = startedAt;
    while ((await metric(LINK_METRICS.recordsForwarded)) < sent.length && Date.now() - startedAt < 120_000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      forwardedAt = Date.now();
    }
    expect(await callIdsAtLon(tenant, sent.length)).toEqual(eventIds(sent));
    const bytes = await metric(LINK_METRICS.bytesForwarded);
    // Uncapped, this backlog crosses in about a second; at the cap it takes bytes / cap, start-up on top.
    expect((forwardedAt - startedAt) / 1000).toBeGreaterThan((0.9 * bytes) / cap);
    expect((forwardedAt - startedAt) / 1000).toBeLessThan(bytes / cap + 20);
  });
});
