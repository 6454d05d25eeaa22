import { createHash, randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { runMaterializer, type Materializer } from "@tandem/materializer";
import {
  CALLS_TOPIC,
  EventCodec,
  USERS_TOPIC,
  parseHeaders,
  type CallCompleted,
  type UserChanged,
} from "@tandem/events";
import { audioSha256At, kafkaFor, readTopic } from "../support/clients";
import { freshDatabase } from "../support/databases";
import { testLogger } from "../support/logger";
import { runTandem } from "../support/processes";
import { stack } from "../support/stack";
import { topologyOf, writeTopologyFile } from "../support/topology";
import { until } from "../support/wait";

/**
 * `tandem publish` as a script runs it: a call's audio then its event, a user edit, against the real nyc
 * site; bad input (exit 2) and an unreachable site (exit 1) publish nothing.
 */
const test = await stack();
const nyc = test.site("nyc");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-cli-publish-"));
const config = path.join(dir, "topology.yaml");
const codec = new EventCodec({ host: nyc.registry.url });
const database = await freshDatabase(nyc);
const topology = topologyOf([nyc], []);
topology.sites[0]!.postgres = { connectionString: database.url };
writeTopologyFile(config, topology);
let materializer: Materializer | undefined;

afterAll(async () => {
  await materializer?.stop();
  await database.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const EXAMPLES = path.resolve(import.meta.dirname, "../../examples/publish");

/** The example call under fresh ids, written to a file; `edit` changes it before it is written. */
function callFile(edit: (meta: Record<string, unknown>) => void = () => {}): {
  file: string;
  meta: Record<string, unknown>;
} {
  const meta = JSON.parse(fs.readFileSync(path.join(EXAMPLES, "call.json"), "utf8")) as Record<
    string,
    unknown
  >;
  Object.assign(meta, { callId: randomUUID(), tenantId: randomUUID(), groupId: randomUUID() });
  edit(meta);
  const file = path.join(dir, `call-${meta.callId as string}.json`);
  fs.writeFileSync(file, JSON.stringify(meta));
  return { file, meta };
}

function audioFile(bytes: Buffer): string {
  const file = path.join(dir, `${randomUUID()}.wav`);
  fs.writeFileSync(file, bytes);
  return file;
}

function publish(args: string[]): { code: number | null; out: string; err: string } {
  return runTandem(["publish", ...args, "--config", config, "--site", "nyc"]);
}

/** The records of a topic at nyc so far, over all partitions. */
async function recordCount(topic: string): Promise<number> {
  const admin = kafkaFor(nyc).admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return 0;
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** The decoded records of a topic keyed by `key`, with their headers. */
async function recordsOf(topic: string, key: string) {
  const records = (await readTopic(nyc, topic, { idleMs: 1500 })).filter((m) => m.key?.toString() === key);
  return Promise.all(
    records.map(async (m) => ({
      event: (await codec.decode(m.value, { topic, partition: m.partition, offset: m.offset })).event,
      headers: parseHeaders(m.headers),
    })),
  );
}

async function userKnown(userId: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query("SELECT 1 FROM users WHERE user_id = $1", [userId])).rowCount === 1;
  } finally {
    await client.end();
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("tandem publish", () => {
  it("call: the audio in the site's store, then the event in calls.completed; a rerun gives the same ids", async () => {
    const bytes = randomBytes(64 * 1024);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const { file, meta } = callFile();
    const audio = audioFile(bytes);

    const first = publish(["call", "--meta", file, "--audio", audio, "--json"]);
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    const ids = JSON.parse(first.out) as Record<string, string | number>;
    expect(ids).toMatchObject({ callId: meta.callId, sha256, sizeBytes: bytes.length });
    expect(ids.objectKey).toMatch(new RegExp(`^tenants/${meta.tenantId as string}/\\d{4}/\\d{2}/\\d{2}/`));

    const [record, ...others] = await recordsOf(CALLS_TOPIC, meta.callId as string);
    expect(others).toEqual([]);
    const event = record!.event as CallCompleted;
    expect(event).toMatchObject({
      eventId: ids.eventId,
      originSite: "nyc",
      tenantId: meta.tenantId,
      recorderId: meta.recorderId,
      durationMs: meta.durationMs,
      attributes: meta.attributes,
      audio: { ...(meta.audio as object), objectKey: ids.objectKey, sha256, sizeBytes: bytes.length },
    });
    expect(record!.headers).toMatchObject({
      ok: true,
      headers: { eventId: ids.eventId, origin: "nyc", path: ["nyc"], tenantId: meta.tenantId },
    });
    expect(await audioSha256At(nyc, event)).toBe(sha256);

    // A rerun (after a crash, say) publishes the same event id for the same audio.
    const again = publish(["call", "--meta", file, "--audio", audio]);
    expect(again.code).toBe(0);
    expect(again.out).toContain(`eventId ${ids.eventId}\n`);
    expect(again.out).toContain(`sha256 ${sha256}\n`);
    const both = await recordsOf(CALLS_TOPIC, meta.callId as string);
    expect(both.map((r) => r.event.eventId)).toEqual([ids.eventId, ids.eventId]);
  });

  it("user: the edit in users.changed with its headers; the next one is based on the version the site holds", async () => {
    const meta = JSON.parse(fs.readFileSync(path.join(EXAMPLES, "user.json"), "utf8")) as Record<
      string,
      unknown
    >;
    Object.assign(meta, { userId: randomUUID(), tenantId: randomUUID(), groupId: randomUUID() });
    const file = path.join(dir, "user.json");
    fs.writeFileSync(file, JSON.stringify(meta));

    // nyc's materializer: an edit published without a base version is based on what the site holds.
    materializer = await runMaterializer({
      topology,
      siteId: "nyc",
      logger: testLogger("cli-publish"),
      options: { consumer: { groupId: `cli-publish-${randomUUID()}` } },
    });
    const result = publish(["user", "--meta", file]);
    expect(result.code).toBe(0);
    const [, eventId] = /^eventId (\S+)$/m.exec(result.out) ?? [];
    expect(result.out).toContain(`userId ${meta.userId as string}\n`);

    const [record, ...others] = await recordsOf(USERS_TOPIC, meta.userId as string);
    expect(others).toEqual([]);
    const first = record!.event as UserChanged;
    expect(first).toMatchObject({
      eventId,
      originSite: "nyc",
      operation: "UPSERT",
      fields: { ...(meta.changes as object), role: null },
      baseVersion: {},
    });
    expect(first.changedFields.toSorted()).toEqual(Object.keys(meta.changes as object).toSorted());
    expect(record!.headers).toMatchObject({
      ok: true,
      headers: { eventId, origin: "nyc", groupId: meta.groupId },
    });

    await until("nyc's materializer to apply the user", () => userKnown(meta.userId as string), 60_000);
    await materializer.stop();
    fs.writeFileSync(file, JSON.stringify({ ...meta, changes: { role: "supervisor" } }));
    expect(publish(["user", "--meta", file]).code).toBe(0);
    const second = (await recordsOf(USERS_TOPIC, meta.userId as string))[1]!.event as UserChanged;
    expect(second.baseVersion).toEqual({ nyc: first.hlc });
    expect(second.changedFields).toEqual(["role"]);
  });

  it("bad input: one line naming the file and the field, exit 2, nothing published", async () => {
    const before = await recordCount(CALLS_TOPIC);
    const audio = audioFile(randomBytes(1024));
    const missing = callFile((meta) => delete meta.recorderId);
    const broken = path.join(dir, "broken.json");
    fs.writeFileSync(broken, '{"callId": "');
    const good = callFile();
    const cases: Array<[string[], RegExp]> = [
      [
        ["--meta", missing.file, "--audio", audio],
        new RegExp(`^tandem: ${missing.file}: recorderId: is missing$`),
      ],
      [["--meta", broken, "--audio", audio], new RegExp(`^tandem: ${broken}: not JSON: `)],
      [
        ["--meta", good.file, "--audio", path.join(dir, "absent.wav")],
        /^tandem: \S+absent\.wav: cannot read: ENOENT/,
      ],
    ];
    for (const [args, line] of cases) {
      const result = publish(["call", ...args]);
      expect(result.code).toBe(2);
      expect(result.err.trimEnd().split("\n")).toEqual([expect.stringMatching(line)]);
    }
    expect(await recordCount(CALLS_TOPIC)).toBe(before);
  });

  it("an unreachable site: one line naming what did not answer, exit 1, within seconds, nothing published", async () => {
    const before = await recordCount(CALLS_TOPIC);
    const audio = audioFile(randomBytes(1024));
    const down = `127.0.0.1:${await closedPort()}`;

    const kafkaDown = topologyOf([nyc], []);
    kafkaDown.sites[0]!.kafka = { brokers: [down] };
    const registryDown = topologyOf([nyc], []);
    registryDown.sites[0]!.registry = { url: `http://${down}` };
    const storeDown = topologyOf([nyc], []);
    Object.assign(storeDown.sites[0]!.objectStore, { endpoint: `http://${down}` });
    for (const [topology, what] of [
      [kafkaDown, "Kafka"],
      [registryDown, "schema registry"],
      [storeDown, "object store"],
    ] as const) {
      const file = path.join(dir, `down-${what}.yaml`);
      writeTopologyFile(file, topology);
      const startedAt = Date.now();
      const result = runTandem(
        ["publish", "call", "--config", file, "--site", "nyc", "--meta", callFile().file, "--audio", audio],
        60_000,
      );
      // Bounded retries: seconds, not minutes (a busy machine's process start included).
      expect(Date.now() - startedAt).toBeLessThan(45_000);
      expect(result.code).toBe(1);
      expect(result.err.trimEnd().split("\n")).toEqual([
        expect.stringMatching(new RegExp(`^tandem: site nyc: ${what} unreachable: .+; nothing published$`)),
      ]);
      expect(result.err).not.toContain(nyc.objectStore.secretAccessKey);
    }
    expect(await recordCount(CALLS_TOPIC)).toBe(before);
  });
});
