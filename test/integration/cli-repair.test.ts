import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audioObjectKey, type CallCompleted } from "@tandem/events";
import type { SiteEndpoints } from "@tandem/stack";
import { audioSha256At, kafkaFor, recordCallsWithAudio, recorderAt, storeFor } from "../support/clients";
import { freshDatabase } from "../support/databases";
import { waitFor } from "../support/events";
import { exited, runSite, runTandem, terminateAll } from "../support/processes";
import { stack } from "../support/stack";
import { link, topologyOf, twoWay, writeTopologyFile } from "../support/topology";

/**
 * `tandem repair` against three real sites served by `tandem run`: nyc <-> lon, and lon -> sfo without
 * a denied tenant (sfo gets nyc's calls through lon). Rows and audio deleted by hand at lon come back
 * through the log; the denied tenant never reaches sfo; a dry run and a second run change nothing.
 */
const test = await stack();
const [nyc, lon, sfo] = [test.site("nyc"), test.site("lon"), test.site("sfo")];
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-cli-repair-"));
const topologyFile = path.join(workDir, "topology.yaml");
const databases = new Map<string, { url: string; drop: () => Promise<void> }>();
const services: ChildProcess[] = [];
const tenant = randomUUID();
const denied = randomUUID();
const group = randomUUID();

const repair = (args: string[]) =>
  runTandem(["repair", "--config", topologyFile, "--grace", "0", "--wait", "90", ...args], 150_000);

async function query<T extends pg.QueryResultRow>(site: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: databases.get(site)!.url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const callsOf = async (site: string, tenantId: string) =>
  query<{ call_id: string; audio_state: string; event_id: string }>(
    site,
    "SELECT call_id, audio_state, event_id FROM calls WHERE tenant_id = $1",
    [tenantId],
  );

const recordCalls = (site: SiteEndpoints, count: number, tenantId: string) =>
  recordCallsWithAudio(site, count, { tenantId, groupId: group });

/** Records in the topics that a repair of lon writes to. */
async function recordsAtLon(): Promise<number> {
  const admin = kafkaFor(lon).admin();
  await admin.connect();
  try {
    let total = 0;
    for (const topic of ["calls.completed", "nyc.calls.completed", "tandem.dlq"]) {
      for (const p of await admin.fetchTopicOffsets(topic)) total += Number(p.high);
    }
    return total;
  } finally {
    await admin.disconnect();
  }
}

/** Deletes calls at a site, rows and audio objects, as an accident (or a bad restore) would. */
async function loseCalls(site: SiteEndpoints, calls: CallCompleted[]): Promise<void> {
  const ids = calls.map((c) => c.callId);
  await query(site.site, "DELETE FROM audio_transfers WHERE call_id = ANY($1::uuid[])", [ids]);
  await query(site.site, "DELETE FROM calls WHERE call_id = ANY($1::uuid[])", [ids]);
  for (const c of calls) await storeFor(site).delete(audioObjectKey(c.tenantId, c.startedAtMs, c.callId));
}

beforeAll(async () => {
  for (const site of [nyc, lon, sfo]) databases.set(site.site, await freshDatabase(site));
  const topology = topologyOf(
    [nyc, lon, sfo],
    [
      ...twoWay("nyc", "lon"),
      link("lon", "sfo", { filters: { tenants: { deny: [denied] }, groups: { deny: [] } } }),
    ],
    { kind: "manual" },
  );
  for (const site of topology.sites) site.postgres = { connectionString: databases.get(site.id)!.url };
  writeTopologyFile(topologyFile, topology);
  for (const site of ["nyc", "lon", "sfo"]) services.push(runSite(topologyFile, site, workDir, "repair"));
});

afterAll(async () => {
  await terminateAll(services);
  for (const db of databases.values()) await db.drop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe("tandem repair", { timeout: 300_000 }, () => {
  let atNyc: CallCompleted[] = [];
  let atLon: CallCompleted[] = [];
  let deniedAtNyc: CallCompleted[] = [];

  it("restores calls and audio deleted by hand at one site, through the log, and verify exits 0", async () => {
    atNyc = await recordCalls(nyc, 10, tenant);
    atLon = await recordCalls(lon, 3, tenant);
    deniedAtNyc = await recordCalls(nyc, 2, denied);
    const scope = ["--tenant", `${tenant},${denied}`];
    await waitFor(
      async () => runTandem(["verify", "--config", topologyFile, "--grace", "0", ...scope]),
      (r) => r.code === 0 && /sfo\s+calls 13\s/.test(r.out) && /lon\s+calls 15\s/.test(r.out),
      150_000,
    );

    const lost = [...atNyc.slice(0, 5), atLon[0]!, deniedAtNyc[0]!];
    await loseCalls(lon, lost);
    const failed = atNyc[5]!;
    await query("lon", "UPDATE calls SET audio_state = 'failed' WHERE call_id = $1", [failed.callId]);
    await storeFor(lon).delete(audioObjectKey(failed.tenantId, failed.startedAtMs, failed.callId));
    expect(runTandem(["verify", "--config", topologyFile, "--grace", "0", ...scope]).code).toBe(1);

    const before = await recordsAtLon();
    const dryRun = repair(["--to", "lon", ...scope, "--dry-run"]);
    expect(dryRun.code).toBe(0);
    expect(dryRun.err).toMatch(/calls: 7 missing and 1 with failed audio to republish/);
    expect(dryRun.err).toContain(
      `republish call ${atNyc[0]!.callId} (missing) from nyc into nyc.calls.completed, path nyc,lon`,
    );
    expect(dryRun.err).toContain(
      `republish call ${atLon[0]!.callId} (missing) from nyc into calls.completed, path lon`,
    );
    expect(dryRun.err).toContain(`republish call ${failed.callId} (audio-failed) from nyc`);
    expect(dryRun.err).toMatch(/dry run: nothing published/);
    expect(await recordsAtLon()).toBe(before);
    expect(await callsOf("lon", tenant)).toHaveLength(13 - 6);

    const started = performance.now();
    const repaired = repair(["--to", "lon", ...scope]);
    const seconds = (performance.now() - started) / 1000;
    expect(repaired.err).toMatch(/published 8 call\(s\) into lon/);
    expect(repaired.err).toMatch(/lon applied all 8 call\(s\), audio copied and sha256 verified/);
    expect(repaired.out).toMatch(/verify nyc, lon, sfo: consistent/);
    expect(repaired.code).toBe(0);
    const figures = repaired.err.split("\n").filter((line) => /^(published|lon applied)/.test(line));
    console.log(`repair of lon in ${seconds.toFixed(1)}s: ${figures.join("; ")}`);

    const rows = new Map(
      [...(await callsOf("lon", tenant)), ...(await callsOf("lon", denied))].map((r) => [r.call_id, r]),
    );
    for (const call of [...lost, failed]) {
      expect(rows.get(call.callId)).toMatchObject({ event_id: call.eventId, audio_state: "present" });
      expect(await audioSha256At(lon, call)).toBe(call.audio!.sha256);
    }
  });

  it("changes nothing when run a second time", async () => {
    const before = await recordsAtLon();
    const again = repair(["--to", "lon", "--tenant", `${tenant},${denied}`]);
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/calls: 0 missing and 0 with failed audio to republish, 0 to dead-letter/);
    expect(again.out).toMatch(/consistent/);
    expect(await recordsAtLon()).toBe(before);
  });

  it("never copies a denied tenant to a site a filter keeps it out of, multi-hop included", async () => {
    for (const args of [
      ["--to", "sfo"],
      ["--to", "sfo", "--from", "nyc"],
    ]) {
      const result = repair([...args, "--tenant", denied]);
      expect(result.code).toBe(0);
      expect(result.err).toMatch(/0 missing .* 2 kept out by the filters/);
    }
    expect(await callsOf("sfo", denied)).toEqual([]);
  });

  it("dead-letters a call whose audio no site holds, once, and never marks it present", async () => {
    const orphanTenant = randomUUID();
    const [orphan] = await recordCalls(nyc, 1, orphanTenant);
    await waitFor(
      async () => Promise.all(["lon", "sfo"].map((s) => callsOf(s, orphanTenant))),
      (all) => all.every((rows) => rows.length === 1 && rows[0]!.audio_state === "present"),
      90_000,
    );
    for (const site of ["nyc", "sfo"]) {
      await query(site, "UPDATE calls SET audio_state = 'failed' WHERE call_id = $1", [orphan!.callId]);
    }
    await loseCalls(lon, [orphan!]);
    const first = repair(["--to", "lon", "--tenant", orphanTenant]);
    expect(first.err).toContain(`dead-letter call ${orphan!.callId} (origin nyc)`);
    expect(first.err).toMatch(/1 dead-lettered at lon/);
    expect(first.code).toBe(1);
    expect(await callsOf("lon", orphanTenant)).toEqual([]);
    const before = await recordsAtLon();
    const second = repair(["--to", "lon", "--tenant", orphanTenant]);
    expect(second.err).toContain(`leave call ${orphan!.callId}: dead-lettered-before`);
    expect(await recordsAtLon()).toBe(before);
  });

  it("users deleted by hand at lon come back; users and open conflicts are identical at every site", async () => {
    const userId = randomUUID();
    const [atNycRecorder, atLonRecorder] = [await recorderAt(nyc), await recorderAt(lon)];
    const edit = (recorder: typeof atNycRecorder, changes: Record<string, unknown>) =>
      recorder.publisher.publishUserChanged({
        userId,
        tenantId: tenant,
        groupId: group,
        operation: "UPSERT",
        changes,
        baseVersion: {},
      });
    // Concurrent: neither edit saw the other, so the name is in conflict under the manual policy.
    await edit(atNycRecorder, { name: "Ada at nyc", email: "ada@example.com" });
    await edit(atLonRecorder, { name: "Ada at lon", role: "agent" });
    await Promise.all([atNycRecorder.close(), atLonRecorder.close()]);
    const userRows = (site: string) =>
      query<{ state: unknown; name: string | null; version: unknown }>(
        site,
        "SELECT state, name, version FROM users WHERE user_id = $1",
        [userId],
      );
    const conflictRows = (site: string) =>
      query<{ field: string; siblings: unknown; winner: unknown; status: string }>(
        site,
        "SELECT field, siblings, winner, status FROM conflicts WHERE user_id = $1 ORDER BY field",
        [userId],
      );
    await waitFor(
      async () => Promise.all(["nyc", "lon", "sfo"].map(conflictRows)),
      (all) => all.every((rows) => rows.length === 1 && rows[0]!.status === "open"),
      90_000,
    );

    await query("lon", "DELETE FROM conflicts WHERE user_id = $1", [userId]);
    await query("lon", "DELETE FROM users WHERE user_id = $1", [userId]);
    const repaired = repair(["--to", "lon", "--tenant", tenant]);
    expect(repaired.err).toMatch(/users: 1 lacking 2 write\(s\) to re-emit/);
    expect(repaired.err).toMatch(/lon merged the re-emitted writes of 1 user\(s\)/);
    expect(repaired.code).toBe(0);
    const [users, conflicts] = [
      await Promise.all(["nyc", "lon", "sfo"].map(userRows)),
      await Promise.all(["nyc", "lon", "sfo"].map(conflictRows)),
    ];
    expect(users[1]).toHaveLength(1);
    expect(users[1]).toEqual(users[0]);
    expect(users[2]).toEqual(users[0]);
    expect(conflicts[1]).toEqual(conflicts[0]);
    expect(conflicts[2]).toEqual(conflicts[0]);
    expect(repair(["--to", "lon", "--tenant", tenant]).err).toMatch(/users: 0 lacking 0 write/);
  });

  it("says so when no materializer runs at the target, and exits 1", async () => {
    const sfoService = services[2]!;
    sfoService.kill("SIGTERM");
    await exited(sfoService);
    await loseCalls(sfo, [atNyc[0]!]);
    const result = repair(["--to", "sfo", "--tenant", tenant, "--wait", "5"]);
    expect(result.err).toMatch(/no materializer seems to run at sfo: none of the 1 published call\(s\)/);
    expect(result.out).toMatch(/call .* at sfo: missing/);
    expect(result.code).toBe(1);
  });

  it("refuses an unknown site or a source that cannot feed the target, in one line, exit 2", () => {
    const unknown = repair(["--to", "mars"]);
    expect(unknown.code).toBe(2);
    expect(unknown.err.trim().split("\n")).toEqual([
      expect.stringMatching(/site "mars" is not in the topology/),
    ]);
    const cannotFeed = repair(["--to", "lon", "--from", "sfo"]);
    expect(cannotFeed.code).toBe(2);
    expect(cannotFeed.err).toMatch(/--from sfo: no link carries calls from sfo to lon/);
  });
});
