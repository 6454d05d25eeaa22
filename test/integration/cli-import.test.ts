import { createHash, randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import pg from "pg";
import { v5 as uuidv5 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLS_TOPIC, type CallCompleted } from "@tandem/events";
import { IMPORT_ID_NAMESPACE, callIdOf } from "../../services/cli/src/import/core/ids";
import { audioSha256At, readTopic } from "../support/clients";
import { freshDatabase } from "../support/databases";
import { waitFor } from "../support/events";
import { exited, runSite, runTandem, spawnTandem, terminateAll } from "../support/processes";
import { stack } from "../support/stack";
import { topologyOf, twoWay, writeTopologyFile } from "../support/topology";
import { until } from "../support/wait";

/**
 * `tandem import` as an operator runs it, against two real sites served by `tandem run` (nyc <-> lon):
 * an archive's calls land at nyc with their audio and replicate to lon, bad rows are reported with their
 * reasons, and an import stopped half-way (Ctrl-C, or killed) and run again leaves every call once.
 */
const test = await stack();
const [nyc, lon] = [test.site("nyc"), test.site("lon")];
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-cli-import-"));
const topologyFile = path.join(workDir, "topology.yaml");
const databases = new Map<string, { url: string; drop: () => Promise<void> }>();
const services: ChildProcess[] = [];
const group = randomUUID();
/** The event id the recorder publisher derives from a call id. */
const eventIdOf = (callId: string) => uuidv5(callId, "6f1f7a52-3c1e-4a55-9b43-0c8f1d2e5a10");
const FORMAT = ["--set", "codec=pcm_mulaw", "--set", "channels=1", "--set", "sampleRateHz=8000"];
const HEADER =
  "id,audio,tenantId,groupId,recorderId,direction,callerNumber,calleeNumber,startedAt,durationSeconds,queue";

interface ArchivedCall {
  id: string;
  callId: string;
  startedAtMs: number;
  sha256: string;
}

/** An archive in its own directory: `count` calls with random audio of `bytes` each, and a CSV manifest. */
function archive(name: string, count: number, bytes: number, tenantId: string) {
  const dir = path.join(workDir, name);
  fs.mkdirSync(path.join(dir, "audio"), { recursive: true });
  const calls: ArchivedCall[] = [];
  const lines = [HEADER];
  for (let i = 1; i <= count; i++) {
    const id = `${name}-${i}`;
    const audio = randomBytes(bytes);
    fs.writeFileSync(path.join(dir, "audio", `${id}.wav`), audio);
    const startedAtMs = Date.UTC(2019, 2, 4, 9, 0, i);
    lines.push(
      `${id},audio/${id}.wav,${tenantId},${group},pbx-2019,INBOUND,+12125550100,+12125550199,` +
        `${new Date(startedAtMs).toISOString()},3,support`,
    );
    calls.push({
      id,
      callId: callIdOf(id, tenantId),
      startedAtMs,
      sha256: createHash("sha256").update(audio).digest("hex"),
    });
  }
  const manifest = path.join(dir, "calls.csv");
  fs.writeFileSync(manifest, `${lines.join("\n")}\n`);
  return { dir, manifest, calls, lines };
}

const importArgs = (manifest: string, ...more: string[]) => [
  "import",
  "--config",
  topologyFile,
  "--site",
  "nyc",
  "--manifest",
  manifest,
  ...FORMAT,
  ...more,
];

async function callsOf(site: string, tenantId: string) {
  const client = new pg.Client({ connectionString: databases.get(site)!.url });
  await client.connect();
  try {
    const result = await client.query<{ call_id: string; event_id: string; audio_state: string }>(
      "SELECT call_id, event_id, audio_state FROM calls WHERE tenant_id = $1",
      [tenantId],
    );
    return result.rows;
  } finally {
    await client.end();
  }
}

/** Waits until a site holds exactly these calls with their audio present, and checks their event ids. */
async function heldWithAudio(site: string, tenantId: string, calls: ArchivedCall[]): Promise<void> {
  const rows = await waitFor(
    () => callsOf(site, tenantId),
    (r) => r.length >= calls.length && r.every((c) => c.audio_state === "present"),
    120_000,
  );
  expect(rows.map((r) => r.call_id).toSorted()).toEqual(calls.map((c) => c.callId).toSorted());
  for (const row of rows) expect(row.event_id).toBe(eventIdOf(row.call_id));
}

/** How many records of calls.completed at nyc carry each of these call ids as key. */
async function recordsPerCall(calls: ArchivedCall[]): Promise<number[]> {
  const counts = new Map(calls.map((c) => [c.callId, 0]));
  for (const record of await readTopic(nyc, CALLS_TOPIC, { idleMs: 2000, timeoutMs: 60_000 })) {
    const key = record.key?.toString() ?? "";
    if (counts.has(key)) counts.set(key, counts.get(key)! + 1);
  }
  return [...counts.values()];
}

const stateOf = (manifest: string) =>
  JSON.parse(fs.readFileSync(`${manifest}.import-state.json`, "utf8")) as { done: Array<[number, number]> };
const rowsDone = (manifest: string) => stateOf(manifest).done.reduce((n, [from, to]) => n + to - from + 1, 0);

/** Starts an import, and once its state file says `rows` are done, sends `signal`; resolves its exit code. */
async function interruptAfter(
  manifest: string,
  rows: number,
  signal: NodeJS.Signals,
): Promise<number | null> {
  const child = spawnTandem(
    importArgs(manifest, "--concurrency", "2"),
    path.join(workDir, `${path.basename(path.dirname(manifest))}.log`),
  );
  services.push(child);
  await until(
    `${rows} rows imported`,
    async () => fs.existsSync(`${manifest}.import-state.json`) && rowsDone(manifest) >= rows,
    90_000,
  );
  child.kill(signal);
  return exited(child);
}

beforeAll(async () => {
  for (const site of [nyc, lon]) databases.set(site.site, await freshDatabase(site));
  const topology = topologyOf([nyc, lon], twoWay("nyc", "lon"));
  for (const site of topology.sites) site.postgres = { connectionString: databases.get(site.id)!.url };
  writeTopologyFile(topologyFile, topology);
  for (const site of ["nyc", "lon"]) services.push(runSite(topologyFile, site, workDir, "import"));
  // The tests read the sites' databases at once: wait until each site's materializer has migrated its own.
  await until(
    "both sites' databases migrated",
    async () => (await Promise.all(["nyc", "lon"].map(migrated))).every(Boolean),
    120_000,
  );
});

async function migrated(site: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: databases.get(site)!.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ ready: boolean }>(
      "SELECT to_regclass('calls') IS NOT NULL AS ready",
    );
    return rows[0]!.ready;
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  await terminateAll(services);
  for (const db of databases.values()) await db.drop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe("tandem import", { timeout: 300_000 }, () => {
  it("imports an archive's calls with audio at nyc, replicated to lon; bad rows reported with reasons, exit 1", async () => {
    const tenant = randomUUID();
    const { dir, manifest, calls, lines } = archive("mixed", 12, 20_000, tenant);
    // Four bad rows among the good ones: their line numbers are the manifest's.
    const bad = [
      `missing-1,audio/missing-1.wav,${tenant},${group},pbx-2019,INBOUND,+1,+2,2019-03-04T09:00:00Z,3,`,
      `${calls[0]!.id},audio/${calls[0]!.id}.wav,${tenant},${group},pbx-2019,INBOUND,+1,+2,2019-03-04T09:00:00Z,3,`,
      `bad-tenant,audio/${calls[1]!.id}.wav,acme,${group},pbx-2019,INBOUND,+1,+2,2019-03-04T09:00:00Z,3,`,
      `bad-time,audio/${calls[2]!.id}.wav,${tenant},${group},pbx-2019,INBOUND,+1,+2,2019-03-04 09:00,3,`,
    ];
    fs.writeFileSync(manifest, `${[...lines.slice(0, 5), ...bad, ...lines.slice(5)].join("\n")}\n`);

    const dryRun = runTandem(importArgs(manifest, "--dry-run"));
    expect(dryRun.out).toMatch(/^dry run: 12 row\(s\) would be imported; nothing published$/m);
    expect(dryRun.code).toBe(1);
    expect(await callsOf("nyc", tenant)).toEqual([]);

    const result = runTandem(importArgs(manifest), 120_000);
    expect(result.err).toContain(`import ${manifest} (16 row(s), csv) into nyc`);
    expect(result.out).toMatch(/^imported 12 call\(s\), 240\.0 kB of audio, in [\d.]+s \([\d.]+ calls\/s/m);
    expect(result.out).toContain(`4 row(s) rejected, listed in ${manifest}.rejects.jsonl:`);
    expect(result.code).toBe(1);
    expect(`${result.out}${result.err}`).not.toContain(nyc.objectStore.secretAccessKey);
    const rejects = fs
      .readFileSync(`${manifest}.rejects.jsonl`, "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rejects).toEqual([
      {
        row: 5,
        line: 6,
        id: "missing-1",
        reason: `audio ${path.join(dir, "audio/missing-1.wav")}: no such file`,
      },
      {
        row: 6,
        line: 7,
        id: calls[0]!.id,
        reason: `duplicate of row 1: the same call id ${calls[0]!.callId}`,
      },
      { row: 7, line: 8, id: "bad-tenant", reason: "tenantId: must be a canonical lowercase UUID" },
      {
        row: 8,
        line: 9,
        id: "bad-time",
        reason: 'startedAt: not a time: "2019-03-04 09:00" (ISO 8601 with a zone, or ms since the epoch)',
      },
    ]);

    await heldWithAudio("nyc", tenant, calls);
    await heldWithAudio("lon", tenant, calls);
    for (const call of calls) {
      const ref = { tenantId: tenant, startedAtMs: call.startedAtMs, callId: call.callId } as CallCompleted;
      for (const site of [nyc, lon]) expect(await audioSha256At(site, ref)).toBe(call.sha256);
    }
    expect(await recordsPerCall(calls)).toEqual(calls.map(() => 1));
  });

  it("stopped by Ctrl-C half-way and run again: every call once, in the log and at the sites", async () => {
    const tenant = randomUUID();
    const { manifest, calls } = archive("interrupted", 300, 8_000, tenant);
    expect(await interruptAfter(manifest, 20, "SIGINT")).toBe(130);
    const doneBefore = rowsDone(manifest);
    expect(doneBefore).toBeGreaterThanOrEqual(20);
    expect(doneBefore).toBeLessThan(calls.length);
    // What the state says is done is in the log, exactly once: the calls in flight finished first.
    expect((await recordsPerCall(calls)).filter((n) => n > 0)).toEqual(Array(doneBefore).fill(1));

    const resumed = runTandem(importArgs(manifest), 120_000);
    expect(resumed.err).toContain(`resuming, ${doneBefore} row(s) imported by an earlier run`);
    expect(resumed.out).toContain(`imported ${calls.length - doneBefore} call(s), `);
    expect(resumed.out).toContain(`; ${doneBefore} already imported by an earlier run`);
    expect(resumed.code).toBe(0);
    expect(await recordsPerCall(calls)).toEqual(calls.map(() => 1));
    await heldWithAudio("nyc", tenant, calls);
    expect(runTandem(importArgs(manifest)).out).toMatch(/^imported 0 call\(s\).*; 300 already imported/m);
  });

  it("killed half-way and run again: nothing missing, nothing twice at the sites", async () => {
    const tenant = randomUUID();
    const { manifest, calls } = archive("killed", 300, 8_000, tenant);
    expect(await interruptAfter(manifest, 20, "SIGKILL")).toBeNull();
    const resumed = runTandem(importArgs(manifest), 120_000);
    expect(resumed.code).toBe(0);
    // Rows published after the last save are published again, under the same event ids.
    const perCall = await recordsPerCall(calls);
    expect(perCall.every((n) => n >= 1)).toBe(true);
    await heldWithAudio("nyc", tenant, calls);
    await heldWithAudio("lon", tenant, calls);
  });

  it("refuses bad usage with one line and exit 2, before anything is published", async () => {
    const tenant = randomUUID();
    const { manifest } = archive("usage", 2, 1000, tenant);
    const cases: Array<[string[], RegExp]> = [
      [importArgs(manifest, "--map", "id=ref"), /^tandem: --map id=ref: the manifest has no column ref/],
      [importArgs(manifest.replace(".csv", ".xlsx")), /^tandem: \S+\.xlsx: a manifest is \.csv or \.jsonl/],
      [importArgs(manifest, "--concurrency", "0"), /--concurrency/],
      [["import", "--config", topologyFile, "--site", "sfo", "--manifest", manifest], /sfo/],
    ];
    for (const [args, line] of cases) {
      const result = runTandem(args);
      expect(result.code).toBe(2);
      expect(result.err.trimEnd().split("\n")).toEqual([expect.stringMatching(line)]);
    }
    // A state file of another manifest is not resumed.
    const another = {
      version: 1,
      site: "nyc",
      manifestSha256: "0".repeat(64),
      idNamespace: IMPORT_ID_NAMESPACE,
    };
    fs.writeFileSync(`${manifest}.import-state.json`, JSON.stringify({ ...another, done: [[1, 1]] }));
    const refused = runTandem(importArgs(manifest));
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("belongs to another version of the manifest");
    expect(await callsOf("nyc", tenant)).toEqual([]);
  });
});
