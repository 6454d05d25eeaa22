import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RebuildTarget } from "../../services/cli/src/replay/rebuild";
import {
  CALLS_TOPIC,
  DLQ_TOPIC,
  EventCodec,
  HybridLogicalClock,
  buildHeaders,
  type CallCompleted,
} from "@tandem/events";
import { deadLetterMessage, ensureSiteTopics, ensureTopics } from "@tandem/kafka";
import { DirectoryObjectStore } from "@tandem/object-store";
import { RecorderPublisher } from "@tandem/recorder";
import { kafkaFor, storeFor } from "../support/clients";
import { callEvent, publishCalls } from "../support/events";
import { freshDatabase as freshDatabaseAt } from "../support/databases";
import { exited, spawnTandem } from "../support/processes";
import { stack } from "../support/stack";
import { topologyOf, writeTopologyFile } from "../support/topology";

const testStack = await stack();
const nyc = testStack.site("nyc");
const lon = testStack.site("lon");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-cli-replay-"));
const config = path.join(dir, "topology.yaml");
writeTopologyFile(config, topologyOf(testStack.sites, []));

let runs = 0;
/** The real command in a child process; stdout and stderr end up in one log. */
async function tandem(args: string[]): Promise<{ code: number | null; output: string; lines: string[] }> {
  const log = path.join(dir, `run-${++runs}.log`);
  const code = await exited(spawnTandem(args, log));
  const output = fs.readFileSync(log, "utf8");
  return { code, output, lines: output.split("\n").filter((line) => line.length > 0) };
}

const jsonLines = (lines: string[]) =>
  lines.filter((line) => line.startsWith('{"topic"')).map((line) => JSON.parse(line));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const databases: Array<{ drop: () => Promise<void> }> = [];

/** A new empty database at lon, dropped after the file's tests. */
async function freshDatabase(): Promise<string> {
  const database = await freshDatabaseAt(lon);
  databases.push(database);
  return database.url;
}

afterAll(async () => {
  for (const database of databases) await database.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("tandem inspect", () => {
  // A topic of its own, so that other tests publishing at nyc do not change its last records.
  const origin = `i${randomUUID().slice(0, 8)}`;
  const topic = `${origin}.${CALLS_TOPIC}`;
  const tenantId = randomUUID();
  const groupId = randomUUID();
  const calls = [0, 1, 2, 3].map((i) => callEvent(origin, tenantId, groupId, i));

  beforeAll(async () => {
    const kafka = kafkaFor(nyc);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 2 }]);
    await admin.disconnect();
    const codec = new EventCodec({ host: nyc.registry.url });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const headers = (event: CallCompleted) =>
      buildHeaders({ eventId: event.eventId, origin, path: [origin, "nyc"], tenantId, groupId });
    for (const event of calls) {
      await producer.send({
        topic,
        acks: -1,
        messages: [{ key: event.callId, value: await codec.encode(topic, event), headers: headers(event) }],
      });
      await pause(5);
    }
    // The newest record is not an event at all.
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key: "garbage", value: Buffer.from("not avro"), headers: { "tandem-tenant": tenantId } }],
    });
    await producer.disconnect();
  });

  // A materializer of another test would otherwise pick the topic up as a remote site's.
  afterAll(async () => {
    const admin = kafkaFor(nyc).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it("shows the last records over all partitions, decoded, with their headers, as JSON lines", async () => {
    const { code, lines, output } = await tandem([
      "inspect",
      "--config",
      config,
      "--site",
      "nyc",
      "--topic",
      topic,
      "--last",
      "3",
      "--json",
    ]);
    expect(code, output).toBe(0);
    const records = jsonLines(lines);
    expect(records.map((r) => r.key)).toEqual([calls[2]!.callId, calls[3]!.callId, "garbage"]);
    expect(records[0]).toMatchObject({
      topic,
      kind: "CallCompleted",
      event: calls[2],
      headers: { "tandem-origin": origin, "tandem-path": `${origin},nyc`, "tandem-tenant": tenantId },
    });
    expect(records[2].error).toMatch(/^no-magic-byte at /);
    expect(records[2].value).toEqual({ bytes: 8, hex: Buffer.from("not avro").toString("hex") });
  });

  it("prints one short block per record", async () => {
    const { code, output } = await tandem([
      "inspect",
      "--config",
      config,
      "--site",
      "nyc",
      "--topic",
      topic,
      "--last",
      "2",
    ]);
    expect(code, output).toBe(0);
    expect(output).toContain(`nyc ${topic}: the last 2 of 5 record(s) in 2 partition(s)`);
    expect(output).toContain(`  CallCompleted  call ${calls[3]!.callId}  tenant ${tenantId}  OUTBOUND`);
    expect(output).toMatch(/ {2}ERROR {4}no-magic-byte at .*\n {2}value {4}8 bytes {2}6e6f74206176726f/);
    expect(output).not.toContain(calls[2]!.callId);
  });

  it("shows dead letters with their reason and source", async () => {
    const kafka = kafkaFor(lon);
    const admin = kafka.admin();
    await admin.connect();
    await ensureSiteTopics(admin);
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const key = randomUUID();
    await producer.send({
      topic: DLQ_TOPIC,
      acks: -1,
      messages: [
        deadLetterMessage({
          key,
          value: Buffer.from([0, 0, 0, 0, 9, 1, 2]),
          reason: "unknown-schema: schema id 9 is not in the registry",
          site: "lon",
          component: "bridge nyc->lon",
          source: { topic: CALLS_TOPIC, partition: 1, offset: "77" },
        }),
      ],
    });
    await producer.disconnect();
    const { code, output } = await tandem([
      "inspect",
      "--config",
      config,
      "--site",
      "lon",
      "--topic",
      DLQ_TOPIC,
      "--last",
      "5",
    ]);
    expect(code, output).toBe(0);
    expect(output).toContain(
      `key ${key}\n  dlq      bridge nyc->lon at lon  from calls.completed partition 1 offset 77\n` +
        "  reason   unknown-schema: schema id 9 is not in the registry\n  value    7 bytes  00000000090102",
    );
  });

  it("refuses an unknown topic or site, and bad flags, with one line and exit code 2", async () => {
    const unknownTopic = await tandem([
      "inspect",
      "--config",
      config,
      "--site",
      "nyc",
      "--topic",
      "ams.calls.completed",
    ]);
    expect(unknownTopic.code).toBe(2);
    expect(unknownTopic.lines).toEqual([
      expect.stringMatching(/^tandem: --topic: no topic "ams.calls.completed" at site nyc \(topics: /),
    ]);
    const unknownSite = await tandem([
      "inspect",
      "--config",
      config,
      "--site",
      "ams",
      "--topic",
      CALLS_TOPIC,
    ]);
    expect(unknownSite.code).toBe(2);
    expect(unknownSite.lines).toEqual([expect.stringMatching(/^tandem: site "ams" is not in the topology/)]);
    const badLast = await tandem([
      "inspect",
      "--config",
      config,
      "--site",
      "nyc",
      "--topic",
      CALLS_TOPIC,
      "--last",
      "0",
    ]);
    expect(badLast.code).toBe(2);
    expect(badLast.lines).toEqual([expect.stringMatching(/--last <n>.*whole number from 1 to 10000/)]);
  });
});

describe("tandem replay", () => {
  const tenantId = randomUUID();
  const otherTenant = randomUUID();
  let before: CallCompleted[] = [];
  let inWindow: CallCompleted[] = [];
  let withAudio: CallCompleted;
  let audio: Buffer;
  let after: CallCompleted[] = [];
  let from = "";
  let to = "";

  beforeAll(async () => {
    // The call recorded at nyc below needs nyc's own topics, whichever tests ran before.
    const nycAdmin = kafkaFor(nyc).admin();
    await nycAdmin.connect();
    await ensureSiteTopics(nycAdmin);
    await nycAdmin.disconnect();
    before = await publishCalls(lon, 3, tenantId);
    await pause(1100);
    from = new Date().toISOString();
    await pause(10);
    inWindow = await publishCalls(lon, 4, tenantId);
    await publishCalls(lon, 3, otherTenant);
    // A call recorded at nyc and bridged to lon, with audio in nyc's store.
    audio = Buffer.from(`audio of a replayed call ${randomUUID()}`);
    const producer = kafkaFor(lon).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const nycProducer = kafkaFor(nyc).producer({ idempotent: true, maxInFlightRequests: 1 });
    await nycProducer.connect();
    const recorder = new RecorderPublisher({
      site: "nyc",
      producer: nycProducer,
      codec: new EventCodec({ host: nyc.registry.url }),
      store: storeFor(nyc),
      clock: new HybridLogicalClock(() => Date.now()),
    });
    const startedAtMs = Date.parse("2026-11-21T09:00:00Z");
    withAudio = await recorder.publishCallCompleted(
      {
        callId: randomUUID(),
        tenantId,
        groupId: randomUUID(),
        participantUserIds: [],
        recorderId: "rec-1",
        direction: "INBOUND",
        caller: { number: "+12125550100", name: null },
        callee: { number: "+442071234567", name: null },
        startedAtMs,
        endedAtMs: startedAtMs + 3000,
        durationMs: 3000,
        attributes: {},
      },
      {
        body: Readable.from([audio]),
        contentType: "audio/wav",
        codec: "pcm_s16le",
        channels: 1,
        sampleRateHz: 8000,
      },
    );
    await nycProducer.disconnect();
    const remote = `nyc.${CALLS_TOPIC}`;
    const admin = kafkaFor(lon).admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: remote, numPartitions: 3 }]);
    await admin.disconnect();
    await producer.send({
      topic: remote,
      acks: -1,
      messages: [
        {
          key: withAudio.callId,
          value: await new EventCodec({ host: lon.registry.url }).encode(remote, withAudio),
          headers: buildHeaders({
            eventId: withAudio.eventId,
            origin: "nyc",
            path: ["nyc", "lon"],
            tenantId,
            groupId: withAudio.groupId,
          }),
        },
      ],
    });
    await producer.disconnect();
    await pause(10);
    to = new Date().toISOString();
    await pause(1100);
    after = await publishCalls(lon, 2, tenantId);
  });

  const window = () => [
    "--site",
    "lon",
    "--topic",
    "calls",
    "--from",
    from,
    "--to",
    to,
    "--tenant",
    tenantId,
  ];

  it("writes exactly the tenant's calls of the time window as JSON lines, local and remote topics", async () => {
    const out = path.join(dir, "window.jsonl");
    const { code, lines, output } = await tandem(["replay", "--config", config, ...window(), "--out", out]);
    expect(code, output).toBe(0);
    const events = jsonLines(fs.readFileSync(out, "utf8").split("\n"));
    const expected = [...inWindow, withAudio].map((c) => c.callId).sort();
    expect(events.map((e) => e.event.callId).sort()).toEqual(expected);
    expect(events.every((e) => e.kind === "CallCompleted" && e.event.tenantId === tenantId)).toBe(true);
    expect(events.find((e) => e.event.callId === withAudio.callId)?.topic).toBe(`nyc.${CALLS_TOPIC}`);
    const outside = new Set([...before, ...after].map((c) => c.callId));
    expect(events.some((e) => outside.has(e.event.callId))).toBe(false);
    expect(lines.at(-1)).toMatch(
      /^5 event\(s\) written to .*window\.jsonl \(read \d+ record\(s\): \d+ outside the window or tenant, 0 bad\)/,
    );
  });

  it("writes to stdout when no --out is given", async () => {
    const { code, lines, output } = await tandem(["replay", "--config", config, ...window()]);
    expect(code, output).toBe(0);
    expect(jsonLines(lines)).toHaveLength(5);
  });

  it("rebuilds a fresh database with those calls, and their audio in a directory store", async () => {
    const database = await freshDatabase();
    const storeDir = path.join(dir, "store");
    const { code, output } = await tandem([
      "replay",
      "--config",
      config,
      ...window(),
      "--rebuild",
      database,
      "--store-dir",
      storeDir,
    ]);
    expect(code, output).toBe(0);
    expect(output).toContain("database migrated: 0001_initial.sql");
    expect(output).toContain("audio: 1 file(s) copied into");
    expect(output).not.toContain(new URL(database).password);
    const client = new pg.Client({ connectionString: database });
    await client.connect();
    try {
      const { rows } = await client.query<{
        call_id: string;
        audio_state: string;
        local_object_key: string | null;
      }>("SELECT call_id, audio_state, local_object_key FROM calls ORDER BY call_id");
      expect(rows.map((r) => r.call_id)).toEqual([...inWindow, withAudio].map((c) => c.callId).sort());
      const states = Object.fromEntries(rows.map((r) => [r.call_id, r.audio_state]));
      expect(states[withAudio.callId]).toBe("present");
      expect(inWindow.every((c) => states[c.callId] === "none")).toBe(true);
      const key = rows.find((r) => r.call_id === withAudio.callId)?.local_object_key;
      const copied = await new DirectoryObjectStore(storeDir).head(key!);
      expect(copied?.sha256).toBe(createHash("sha256").update(audio).digest("hex"));
    } finally {
      await client.end();
    }
  });

  it("a rebuild sets aside an event PostgreSQL refuses, as the materializer does, and applies the others", async () => {
    const { target } = await RebuildTarget.open({ connectionString: await freshDatabase() }, { kind: "lww" });
    try {
      const view = (event: CallCompleted, offset: number) => ({
        topic: CALLS_TOPIC,
        partition: 0,
        offset: String(offset),
        timestamp: new Date().toISOString(),
        key: event.callId,
        headers: {},
        kind: "CallCompleted" as const,
        event,
      });
      const [valid, refused] = [0, 1].map((i) => callEvent("lon", tenantId, randomUUID(), i));
      refused!.caller = { number: "+12125550100", name: "Ann\u0000Lee" };
      const { callsInserted, rejected } = await target.apply([view(valid!, 1), view(refused!, 2)]);
      expect(callsInserted).toBe(1);
      expect(rejected.map((r) => [r.key, r.error])).toEqual([
        [refused!.callId, expect.stringMatching(/^PostgreSQL refused the event: .*SQLSTATE 22/)],
      ]);
      expect(await target.counts()).toMatchObject({ calls: 1 });
    } finally {
      await target.close();
    }
  });

  it("refuses bad flags with one line and exit code 2", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--site", "lon", "--from", "2026-11-01T00:00"], /^tandem: --from: .* has no time zone/],
      [
        ["--site", "lon", "--from", "2026-11-02", "--to", "2026-11-01"],
        /^tandem: --to .* must be after --from/,
      ],
      [["--site", "lon", "--tenant", "acme"], /^tandem: --tenant: "acme" is not a tenant UUID/],
      [
        ["--site", "lon", "--out", "x", "--rebuild", "postgres://h/db"],
        /^tandem: --out and --rebuild exclude/,
      ],
      [["--site", "lon", "--store-dir", "x"], /^tandem: --store-dir needs --rebuild/],
      [
        ["--site", "lon", "--topic", "ams.calls.completed"],
        /^tandem: --topic: no topic "ams.calls.completed"/,
      ],
      [["--topic", "calls"], /required option '--site <id>'/],
    ];
    for (const [args, message] of cases) {
      const { code, lines } = await tandem(["replay", "--config", config, ...args]);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(lines).toEqual([expect.stringMatching(message)]);
    }
  });
});
