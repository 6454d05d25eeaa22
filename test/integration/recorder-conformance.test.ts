import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { KafkaMessage } from "kafkajs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLS_TOPIC, DLQ_TOPIC, EventCodec, USERS_TOPIC } from "@tandem/events";
import { ensureSiteTopics } from "@tandem/kafka";
import type { SiteEndpoints } from "@tandem/stack";
import { runBridge, type RunningBridge } from "../../services/bridge/src";
import { runMaterializer, type Materializer } from "../../services/materializer/src";
import { callEventFor } from "../../services/recorder/src/publisher";
import { kafkaFor, readTopic, storeFor } from "../support/clients";
import { freshDatabase } from "../support/databases";
import { callEvent } from "../support/events";
import { goProgram } from "../support/go";
import { testLogger } from "../support/logger";
import { runTandem } from "../support/processes";
import { pythonWith } from "../support/python";
import { seededBytes } from "../support/random";
import { stack } from "../support/stack";
import { topologyOf, twoWay, writeTopologyFile } from "../support/topology";
import { until } from "../support/wait";

// The conformance test of docs/recorders.md: its example recorders, written with standard clients only
// (Python: confluent-kafka's AvroSerializer and boto3; Go: franz-go with its registry serde, hamba/avro
// and the AWS SDK for Go v2), run as processes at nyc (Python) and lon (Go) against real servers. Their
// calls and user edits reach both sites, the audio verified by sha256; each mistake a recorder can make
// gets the outcome the page documents.
const REPO = path.resolve(import.meta.dirname, "../..");
const testStack = await stack();
const nyc = testStack.site("nyc");
const lon = testStack.site("lon");
const SITES = [nyc, lon];
const AUDIO_ATTEMPTS = 3;
const logger = testLogger("recorder-conformance-test");

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-recorder-conformance-"));
const topologyFile = path.join(workDir, "topology.yaml");
const databases: Array<{ url: string; drop: () => Promise<void> }> = [];
const pools = new Map<string, pg.Pool>();
const materializers: Materializer[] = [];
let bridge: RunningBridge | undefined;
const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

interface Recorder {
  language: string;
  at: SiteEndpoints;
  command: string;
  args: string[];
}
const recorders: Recorder[] = [];
const otherSite = (site: SiteEndpoints) => (site === nyc ? lon : nyc);

/** Runs a recorder to its end (without blocking the in-process services) with the site's endpoints. */
function record(
  recorder: Recorder,
  flags: string[],
): Promise<{ code: number | null; out: string; err: string }> {
  const { endpoint, region, bucket, accessKeyId, secretAccessKey } = recorder.at.objectStore;
  const siteFile = path.join(workDir, `site-${recorder.at.site}.json`);
  fs.writeFileSync(
    siteFile,
    JSON.stringify({
      site: recorder.at.site,
      kafka: recorder.at.kafka.brokers,
      registry: recorder.at.registry.url,
      s3: { endpoint, region, bucket, accessKeyId, secretAccessKey },
    }),
  );
  const child = spawn(recorder.command, [...recorder.args, "--site", siteFile, ...flags], { cwd: REPO });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

/** A call's file for the recorders (the fields of CallCompleted they do not derive) and its audio. */
function callFiles(origin: string, tenantId: string) {
  const {
    eventId: _derived,
    originSite: _origin,
    audio: _audio,
    ...fields
  } = callEvent(origin, tenantId, randomUUID());
  const call = {
    ...fields,
    audio: { contentType: "audio/wav", codec: "pcm_s16le", channels: 1, sampleRateHz: 8000 },
  };
  const bytes = seededBytes(fields.callId, 100_000);
  const callFile = path.join(workDir, `${fields.callId}.json`);
  const audioFile = path.join(workDir, `${fields.callId}.wav`);
  fs.writeFileSync(callFile, JSON.stringify(call));
  fs.writeFileSync(audioFile, bytes);
  return { call, bytes, flags: ["--call", callFile, "--audio", audioFile] };
}

async function callAt(site: SiteEndpoints, callId: string) {
  const { rows } = await pools.get(site.site)!.query<{
    event_id: string;
    audio_state: string;
    local_object_key: string;
    last_error: string | null;
  }>(
    `SELECT c.event_id, c.audio_state, c.local_object_key, t.last_error
       FROM calls c LEFT JOIN audio_transfers t USING (call_id) WHERE c.call_id = $1`,
    [callId],
  );
  return rows[0];
}

async function storedSha256(site: SiteEndpoints, key: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of (await storeFor(site).get(key)).body) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

beforeAll(async () => {
  // The recorders' dependencies come from PyPI and the Go module proxy, on a fresh machine too.
  recorders.push(
    {
      language: "Python",
      at: nyc,
      command: pythonWith("examples/python/requirements.txt"),
      args: [path.join(REPO, "examples/python/record_call.py")],
    },
    { language: "Go", at: lon, command: goProgram("examples/go", "record-call-go"), args: [] },
  );

  for (const site of SITES) {
    const admin = kafkaFor(site).admin();
    await admin.connect();
    await ensureSiteTopics(admin);
    await admin.disconnect();
  }
  const topology = topologyOf(SITES, twoWay("nyc", "lon"));
  for (const [index, site] of SITES.entries()) {
    const database = await freshDatabase(site);
    databases.push(database);
    pools.set(site.site, new pg.Pool({ connectionString: database.url }));
    topology.sites[index]!.postgres = { connectionString: database.url };
  }
  writeTopologyFile(topologyFile, topology);
  bridge = await runBridge({ topology, logger, topicRefreshMs: 1000 });
  await bridge.ready;
  for (const site of SITES) {
    const materializer = await runMaterializer({
      topology,
      siteId: site.site,
      logger,
      options: {
        consumer: { groupId: `test-materializer-${randomUUID()}`, topicRefreshMs: 1000 },
        audio: { pollMs: 200, initialBackoffMs: 300, maxBackoffMs: 1000, maxAttempts: AUDIO_ATTEMPTS },
      },
    });
    materializers.push(materializer);
    await materializer.joined;
  }
});

afterAll(async () => {
  await bridge?.stop();
  await Promise.all(materializers.map((m) => m.stop()));
  await Promise.all([...pools.values()].map((pool) => pool.end()));
  for (const database of databases) await database.drop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe("the example recorders of docs/recorders.md (Python at nyc, Go at lon)", () => {
  it("publish calls that every site materializes with sha256-verified audio; a rerun changes nothing", async () => {
    const published = [];
    for (const recorder of recorders) {
      const { call, bytes, flags } = callFiles(recorder.at.site, randomUUID());
      const first = await record(recorder, flags);
      expect(first.err).toBe("");
      expect(first.code).toBe(0);
      // Tandem's own derivation of the event id, whatever the language: a retried call is the same event.
      const eventId = callEventFor(recorder.at.site, call, call.audio).eventId;
      expect(first.out).toBe(`call ${call.callId} event ${eventId}\n`);
      const again = await record(recorder, flags);
      expect(again).toEqual(first);
      published.push({ recorder, call, bytes, eventId });
    }

    for (const { recorder, call, bytes, eventId } of published) {
      for (const site of SITES) {
        const row = await until(
          `the ${recorder.language} recorder's call with its audio at ${site.site}`,
          async () => {
            const found = await callAt(site, call.callId);
            return found?.audio_state === "present" && found;
          },
        );
        expect(row.event_id).toBe(eventId);
        expect(await storedSha256(site, row.local_object_key)).toBe(sha(bytes));
      }
    }
  });

  it("publish user edits that every site applies, under subjects Tandem's own publishers accept", async () => {
    const edits = [];
    for (const recorder of recorders) {
      const edit = {
        userId: randomUUID(),
        tenantId: randomUUID(),
        groupId: randomUUID(),
        operation: "UPSERT",
        changes: {
          name: `Ada of ${recorder.language}`,
          email: "ada@example.com",
          extensions: ["201", "202"],
          active: true,
        },
      };
      const userFile = path.join(workDir, `${edit.userId}.json`);
      fs.writeFileSync(userFile, JSON.stringify(edit));
      const result = await record(recorder, ["--user", userFile]);
      expect(result.err).toBe("");
      expect(result.code).toBe(0);
      expect(result.out).toMatch(new RegExp(`^user ${edit.userId} event [0-9a-f-]{36}\\n$`));
      edits.push(edit);
    }

    for (const edit of edits) {
      for (const site of SITES) {
        const user = await until(`user ${edit.userId} at ${site.site}`, async () => {
          const { rows } = await pools
            .get(site.site)!
            .query(
              "SELECT tenant_id, group_id, deleted, name, email, extensions, role, active FROM users WHERE user_id = $1",
              [edit.userId],
            );
          return rows[0];
        });
        expect(user).toEqual({
          tenant_id: edit.tenantId,
          group_id: edit.groupId,
          deleted: false,
          ...edit.changes,
          role: null,
        });
      }
    }
    // A subject the examples created (the first publications at a fresh site) has the compatibility level
    // Tandem's own publishers at the site insist on.
    for (const site of SITES) {
      const codec = new EventCodec({ host: site.registry.url });
      for (const topic of [CALLS_TOPIC, USERS_TOPIC]) expect(await codec.register(topic)).toBeGreaterThan(0);
    }
  });

  it("make each mistake of the documented table and get its documented outcome", async () => {
    const tenantId = randomUUID();
    const calls = new Map<string, { origin: SiteEndpoints; callId: string; eventId: string }>();
    for (const recorder of recorders) {
      for (const mistake of ["missing-header", "wrong-key", "other-sha256", "no-upload"]) {
        const { call, flags } = callFiles(recorder.at.site, tenantId);
        const result = await record(recorder, [...flags, "--mistake", mistake]);
        expect(result.err).toBe("");
        expect(result.code).toBe(0);
        const { eventId } = callEventFor(recorder.at.site, call, call.audio);
        calls.set(`${recorder.language} ${mistake}`, { origin: recorder.at, callId: call.callId, eventId });
      }
    }
    const mistaken = (language: string, mistake: string) => calls.get(`${language} ${mistake}`)!;

    for (const { language, at: origin } of recorders) {
      // A key other than the call id (the recorders use the event id): accepted, the value's call id counts.
      const wrongKey = mistaken(language, "wrong-key");
      const keyedByEventId = (messages: KafkaMessage[]) =>
        messages.some((m) => m.key?.toString() === wrongKey.eventId);
      expect(keyedByEventId(await readTopic(origin, CALLS_TOPIC, { until: keyedByEventId }))).toBe(true);
      for (const site of SITES) {
        await until(
          `the ${language} call with a wrong key present at ${site.site}`,
          async () => (await callAt(site, wrongKey.callId))?.audio_state === "present",
        );
      }
      // A header missing: materialized at its own site, dead-lettered by the bridge, never elsewhere.
      const missingHeader = mistaken(language, "missing-header");
      const ofCall = (m: KafkaMessage) => m.key?.toString() === missingHeader.callId;
      const letter = (await readTopic(origin, DLQ_TOPIC, { until: (ms) => ms.some(ofCall) })).find(ofCall);
      expect(letter?.headers?.["tandem-dlq-reason"]?.toString()).toMatch(
        /^malformed tandem headers: tandem-tenant header is absent/,
      );
      expect(letter?.headers?.["tandem-dlq-component"]?.toString()).toBe(
        `bridge ${origin.site}->${otherSite(origin).site}`,
      );
      expect((await callAt(origin, missingHeader.callId))?.audio_state).toBe("present");
      expect(await callAt(otherSite(origin), missingHeader.callId)).toBeUndefined();
    }

    // Audio whose bytes hash to another sha256, or never uploaded: failed at every site after the retry
    // budget, each site's tandem.dlq naming the call.
    const failing = recorders.flatMap(({ language }) => [
      { ...mistaken(language, "other-sha256"), logged: "checksum-mismatch" },
      { ...mistaken(language, "no-upload"), logged: "absent" },
    ]);
    for (const { callId, origin, logged } of failing) {
      for (const site of SITES) {
        const row = await until(`the audio of ${callId} failed at ${site.site}`, async () => {
          const found = await callAt(site, callId);
          return found?.audio_state === "failed" && found;
        });
        expect(row.last_error).toContain(`${origin.site}:`);
        expect(row.last_error).toContain(logged);
      }
    }
    for (const site of SITES) {
      // Dead-lettered before they were marked failed: every one is in the topic by now.
      const ofFailing = (m: KafkaMessage) =>
        failing.some(({ callId }) => m.headers?.["tandem-dlq-call-id"]?.toString() === callId);
      const letters = (
        await readTopic(site, DLQ_TOPIC, { until: (ms) => ms.filter(ofFailing).length >= failing.length })
      ).filter(ofFailing);
      expect(letters).toHaveLength(failing.length);
      for (const letter of letters) {
        expect(letter?.headers?.["tandem-dlq-reason"]?.toString()).toMatch(
          /^audio unreachable within the retry budget: /,
        );
      }
    }

    // `tandem verify` names the calls whose audio their origin lacks at every site, and the call the
    // bridge kept at its origin as missing elsewhere.
    const result = runTandem(["verify", "--config", topologyFile, "--tenant", tenantId, "--grace", "0"]);
    expect(result.code).toBe(1);
    for (const { callId } of failing) {
      for (const site of SITES) {
        expect(result.out).toMatch(new RegExp(`call ${callId} at ${site.site}: audio-missing-at-origin`));
      }
    }
    for (const { language, at: origin } of recorders) {
      const { callId } = mistaken(language, "missing-header");
      expect(result.out).toMatch(new RegExp(`call ${callId} at ${otherSite(origin).site}: missing`));
      expect(result.out).not.toContain(mistaken(language, "wrong-key").callId);
    }
  });
});
