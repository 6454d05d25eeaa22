import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { IHeaders, KafkaMessage } from "kafkajs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Topology } from "@tandem/config";
import { CALLS_TOPIC, DLQ_TOPIC, EventCodec, USERS_TOPIC, buildHeaders } from "@tandem/events";
import { DLQ_HEADERS } from "@tandem/kafka";
import { runBridge, type RunningBridge } from "../../services/bridge/src";
import { runMaterializer, type Materializer } from "../../services/materializer/src";
import {
  CORPUS_ENTRY_HEADER,
  CORPUS_IDS,
  CORPUS_RUN_HEADER,
  corpusFile,
  loadRecordEntries,
  type RecordEntry,
} from "../corpus/corpus";
import { kafkaFor, readTopic, storeFor } from "../support/clients";
import { freshDatabase } from "../support/databases";
import { callEvent } from "../support/events";
import { testLogger } from "../support/logger";
import { stack } from "../support/stack";
import { link, topologyOf } from "../support/topology";
import { until } from "../support/wait";

const test = await stack();
const nyc = test.site("nyc");
const lon = test.site("lon");
const entries = loadRecordEntries();

const runId = randomUUID();
const runStartedAt = Date.now();
const validTenant = randomUUID();
/** The tenants corpus events belong to (the stack's other data, read too by a fresh group, does not count). */
const corpusTenants = [CORPUS_IDS.tenant, CORPUS_IDS.deniedTenant];
const validGroup = randomUUID();
const streamTopic = { calls: CALLS_TOPIC, users: USERS_TOPIC } as const;
const topicOf = (entry: Pick<RecordEntry, "site" | "stream">) =>
  entry.site === "nyc" ? streamTopic[entry.stream] : `nyc.${streamTopic[entry.stream]}`;

const codecs = {
  nyc: new EventCodec({ host: nyc.registry.url }),
  lon: new EventCodec({ host: lon.registry.url }),
};
const producers = { nyc: kafkaFor(nyc).producer(), lon: kafkaFor(lon).producer() };
let database: Awaited<ReturnType<typeof freshDatabase>>;
let pool: pg.Pool;
let bridge: RunningBridge;
let materializer: Materializer;
/** Where each corpus record was written, by entry id. */
const written = new Map<string, { topic: string; partition: number; offset: string }>();
const validCallIds: string[] = [];

function wireValue(entry: RecordEntry, schemaIds: Record<string, number>): Buffer | null {
  const spec = entry.value;
  if (spec.kind === "null") return null;
  const bytes = corpusFile(spec.file);
  if (spec.kind === "raw") return bytes;
  const header = Buffer.alloc(5);
  header.writeInt32BE(
    spec.kind === "schema-id" ? spec.schemaId : schemaIds[`${entry.site}/${spec.schemaOf}`]!,
    1,
  );
  return Buffer.concat([header, bytes]);
}

/** A valid call of the run's tenant, written where the corpus record next to it is written. */
async function sendValid(site: "nyc" | "lon"): Promise<void> {
  const event = callEvent("nyc", validTenant, validGroup, validCallIds.length);
  const topic = site === "nyc" ? CALLS_TOPIC : `nyc.${CALLS_TOPIC}`;
  const headers = buildHeaders({
    eventId: event.eventId,
    origin: "nyc",
    path: site === "nyc" ? ["nyc"] : ["nyc", "lon"],
    tenantId: validTenant,
    groupId: validGroup,
  });
  await producers[site].send({
    topic,
    acks: -1,
    messages: [
      {
        key: event.callId,
        value: await codecs[site].encode(topic, event),
        headers: { ...headers, [CORPUS_RUN_HEADER]: runId },
      },
    ],
  });
  validCallIds.push(event.callId);
}

const header = (headers: IHeaders | undefined, name: string) => headers?.[name]?.toString();
const ofThisRun = (m: KafkaMessage) => header(m.headers, CORPUS_RUN_HEADER) === runId;

async function runRecords(site: "nyc" | "lon", topics: string[]) {
  const all = await Promise.all(
    topics.map((topic) => readTopic(site === "nyc" ? nyc : lon, topic, { idleMs: 2000 })),
  );
  return all.flat().filter(ofThisRun);
}

beforeAll(async () => {
  database = await freshDatabase(lon);
  pool = new pg.Pool({ connectionString: database.url });
  const base = topologyOf(
    [nyc, lon],
    [
      link("nyc", "lon", {
        filters: {
          tenants: { deny: [CORPUS_IDS.deniedTenant] },
          groups: { deny: [CORPUS_IDS.deniedGroup] },
        },
      }),
    ],
  );
  const topology: Topology = {
    ...base,
    sites: base.sites.map((s) =>
      s.id === "lon" ? { ...s, postgres: { connectionString: database.url } } : s,
    ),
  };
  bridge = await runBridge({
    topology,
    logger: testLogger("bridge"),
    topicRefreshMs: 1000,
    backoff: { initialMs: 200, maxMs: 2000, multiplier: 2, jitter: 0.5 },
  });
  await bridge.ready;
  materializer = await runMaterializer({
    topology,
    siteId: "lon",
    logger: testLogger("materializer"),
    options: {
      consumer: {
        groupId: `test-corpus-${runId}`,
        topicRefreshMs: 1000,
        retryInitialMs: 200,
        retryMaxMs: 2000,
      },
      audio: { pollMs: 200, initialBackoffMs: 200, maxBackoffMs: 500, maxAttempts: 2 },
    },
  });
  await materializer.joined;
  await producers.nyc.connect();
  await producers.lon.connect();
});

afterAll(async () => {
  await materializer?.stop();
  await bridge?.stop();
  await producers.nyc.disconnect();
  await producers.lon.disconnect();
  await pool?.end();
  await database?.drop();
});

describe("bad-input corpus against a real bridge nyc -> lon and a real materializer at lon", () => {
  it("gives every input its expected outcome and delivers every valid event around them", async () => {
    const schemaIds = {
      "nyc/calls": await codecs.nyc.register(CALLS_TOPIC),
      "nyc/users": await codecs.nyc.register(USERS_TOPIC),
      "lon/calls": await codecs.lon.register(`nyc.${CALLS_TOPIC}`),
      "lon/users": await codecs.lon.register(`nyc.${USERS_TOPIC}`),
    };
    for (const entry of entries) {
      if (entry.audio !== undefined) {
        await storeFor(nyc).put(entry.audio.objectKey, Readable.from([corpusFile(entry.audio.file)]), {
          contentType: "audio/wav",
        });
      }
      await sendValid(entry.site);
      const topic = topicOf(entry);
      const [meta] = await producers[entry.site].send({
        topic,
        acks: -1,
        messages: [
          {
            key: entry.key,
            value: wireValue(entry, schemaIds),
            headers: { ...entry.headers, [CORPUS_RUN_HEADER]: runId, [CORPUS_ENTRY_HEADER]: entry.id },
          },
        ],
      });
      written.set(entry.id, { topic, partition: meta!.partition, offset: meta!.baseOffset! });
    }
    await sendValid("nyc");
    await sendValid("lon");

    // Every valid event arrives and is materialized, whatever came before and after it.
    await until(
      "every valid call materialized at lon",
      async () => {
        const { rows } = await pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM calls WHERE tenant_id = $1",
          [validTenant],
        );
        return rows[0]!.n === validCallIds.length;
      },
      120_000,
    );
    const expectedDlq = (site: "nyc" | "lon") =>
      entries.filter((e) => e.expect.outcome === "dlq" && e.expect.site === site).map((e) => e.id);
    const dlqOf = async (site: "nyc" | "lon") => {
      const wanted = expectedDlq(site);
      let found: KafkaMessage[] = [];
      await until(
        `every expected DLQ record at ${site}`,
        async () => {
          found = await runRecords(site, [DLQ_TOPIC]);
          const ids = new Set(found.map((m) => header(m.headers, CORPUS_ENTRY_HEADER)));
          return wanted.every((id) => ids.has(id));
        },
        90_000,
      ).catch(() => undefined);
      return found;
    };
    const [dlqAtNyc, dlqAtLon] = await Promise.all([dlqOf("nyc"), dlqOf("lon")]);
    const mismatch = entries.find((e) => e.expect.outcome === "audio-failed");
    const failedAudio = mismatch?.expect.outcome === "audio-failed" ? mismatch.expect : undefined;
    if (failedAudio !== undefined) {
      await until(
        "the mismatching audio failed",
        async () => {
          const { rows } = await pool.query("SELECT audio_state FROM calls WHERE call_id = $1", [
            failedAudio.callId,
          ]);
          return rows[0]?.audio_state === "failed";
        },
        60_000,
      ).catch(() => undefined);
    }
    const forwarded = await runRecords("lon", [`nyc.${CALLS_TOPIC}`, `nyc.${USERS_TOPIC}`]);
    const forwardedIds = new Set(forwarded.map((m) => header(m.headers, CORPUS_ENTRY_HEADER)));
    const audioDlq = (await readTopic(lon, DLQ_TOPIC, { idleMs: 2000 })).filter(
      (m) =>
        Number(m.timestamp) >= runStartedAt && header(m.headers, DLQ_HEADERS.callId) === failedAudio?.callId,
    );
    const { rows: callRows } = await pool.query<{
      call_id: string;
      audio_state: string;
      last_error: string | null;
    }>(
      `SELECT c.call_id, c.audio_state, t.last_error FROM calls c LEFT JOIN audio_transfers t USING (call_id)
       WHERE c.tenant_id = ANY($1::uuid[])`,
      [corpusTenants],
    );
    const { rows: userRows } = await pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM users WHERE tenant_id = ANY($1::uuid[])",
      [corpusTenants],
    );

    const dlqFor = (records: KafkaMessage[], id: string) =>
      records.filter((m) => header(m.headers, CORPUS_ENTRY_HEADER) === id);
    const problems: string[] = [];
    let handled = 0;
    for (const entry of entries) {
      const before = problems.length;
      const fail = (what: string) => problems.push(`${entry.id}: ${what}`);
      const atNyc = dlqFor(dlqAtNyc, entry.id);
      const atLon = dlqFor(dlqAtLon, entry.id);
      const expectation = entry.expect;
      const mustReachLon =
        entry.site === "nyc" &&
        (expectation.outcome === "audio-failed" ||
          (expectation.outcome === "dlq" && expectation.component === "materializer"));
      if (entry.site === "nyc" && forwardedIds.has(entry.id) !== mustReachLon) {
        fail(mustReachLon ? "not forwarded to lon" : "forwarded to lon");
      }
      if (expectation.outcome === "dlq") {
        const [letter, ...more] = expectation.site === "nyc" ? atNyc : atLon;
        const other = expectation.site === "nyc" ? atLon : atNyc;
        const component = expectation.component === "bridge" ? "bridge nyc->lon" : "materializer lon";
        const reason = header(letter?.headers, DLQ_HEADERS.reason) ?? "";
        if (letter === undefined) fail(`no DLQ record at ${expectation.site}`);
        else if (!new RegExp(expectation.reason).test(reason)) fail(`DLQ reason ${JSON.stringify(reason)}`);
        else if (header(letter.headers, DLQ_HEADERS.component) !== component) fail(`DLQ component`);
        if (more.some((m) => header(m.headers, DLQ_HEADERS.reason) !== reason)) fail("DLQ records disagree");
        if (other.length > 0) fail(`also dead-lettered at the other site`);
        const origin = written.get(entry.id)!;
        if (
          expectation.component === "bridge" &&
          letter !== undefined &&
          (header(letter.headers, DLQ_HEADERS.sourceTopic) !== origin.topic ||
            header(letter.headers, DLQ_HEADERS.sourceOffset) !== origin.offset)
        ) {
          fail("DLQ record does not name where the record was read");
        }
      } else if (atNyc.length + atLon.length > 0) {
        fail("dead-lettered");
      }
      if (expectation.outcome === "audio-failed") {
        const row = callRows.find((r) => r.call_id === expectation.callId);
        if (row?.audio_state !== "failed") fail(`audio state ${row?.audio_state}`);
        else if (!new RegExp(expectation.reason).test(row.last_error ?? ""))
          fail(`last error ${row.last_error}`);
        if (
          !audioDlq.some((m) =>
            new RegExp(expectation.reason).test(header(m.headers, DLQ_HEADERS.reason) ?? ""),
          )
        )
          fail("no audio DLQ record at lon");
      }
      if (problems.length === before) handled++;
    }
    // Nothing of the corpus is materialized but the call whose audio failed.
    const materialized = callRows.map((r) => r.call_id).filter((id) => id !== failedAudio?.callId);
    if (materialized.length > 0) problems.push(`materialized at lon: ${materialized.join(", ")}`);
    if (userRows[0]!.n !== 0) problems.push(`${userRows[0]!.n} corpus users materialized at lon`);

    console.log(
      `bad-input corpus: ${entries.length} record inputs tried, ${handled} of ${entries.length} handled as expected, ` +
        `${validCallIds.length} valid calls around them all materialized`,
    );
    expect(problems).toEqual([]);
    expect(bridge.status()[0]!.state).toBe("running");
  });
});
