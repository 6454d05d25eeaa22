import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { EventCodec, buildHeaders } from "@tandem/events";
import { ensureTopics } from "@tandem/kafka";
import { concurrentNameEdits, kafkaFor } from "../support/clients";
import { freshDatabase } from "../support/databases";
import { callEvent, publishCalls, waitFor } from "../support/events";
import { TANDEM, exited, runTandem, spawnTandem, terminateAll } from "../support/processes";
import { stack } from "../support/stack";
import { topologyOf, twoWay, writeTopologyFile } from "../support/topology";

/**
 * The operator's commands against two real sites, each served by `tandem run` as a child process:
 * verify, conflicts (manual merge policy), status, and their exit codes.
 */
const test = await stack();
const nyc = test.site("nyc");
const lon = test.site("lon");
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-cli-ops-"));
const topologyFile = path.join(workDir, "topology.yaml");
const databases: Array<{ drop: () => Promise<void> }> = [];
const services = new Map<string, ChildProcess>();

const tandem = (args: string[]) => runTandem(args);

function startSite(site: string): void {
  const child = spawnTandem(
    ["run", "--config", topologyFile, "--site", site, "--instance", `ops-${site}`],
    path.join(workDir, `${site}.log`),
    { TANDEM_MATERIALIZER_GROUP: `ops-test-${site}-${randomUUID()}` },
  );
  services.set(site, child);
}

beforeAll(async () => {
  const dbNyc = await freshDatabase(nyc);
  const dbLon = await freshDatabase(lon);
  databases.push(dbNyc, dbLon);
  const topology = topologyOf([nyc, lon], twoWay("nyc", "lon"), { kind: "manual" });
  topology.sites[0]!.postgres = { connectionString: dbNyc.url };
  topology.sites[1]!.postgres = { connectionString: dbLon.url };
  writeTopologyFile(topologyFile, topology);
  startSite("nyc");
  startSite("lon");
});

afterAll(async () => {
  await terminateAll(services.values());
  for (const db of databases) await db.drop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe("operator commands", () => {
  const tenant = randomUUID();
  const group = randomUUID();
  const userId = randomUUID();

  it("verify: exit 0 once both sites hold every call of the tenant", async () => {
    await publishCalls(nyc, 5, tenant, group);
    await publishCalls(lon, 5, tenant, group);
    const args = ["verify", "--config", topologyFile, "--tenant", tenant, "--grace", "0"];
    const final = await waitFor(
      async () => tandem(args),
      (r) => r.code === 0 && /nyc\s+calls 10\s/.test(r.out) && /lon\s+calls 10\s/.test(r.out),
      120_000,
    );
    expect(final.out).toMatch(/verify nyc, lon: consistent/);
    expect(final.out).toMatch(/no difference/);
  });

  it("verify: exit 1 naming the cause when a site holds a call no link should have brought", async () => {
    const strayTenant = randomUUID();
    const stray = callEvent("sfo", strayTenant, group);
    const admin = kafkaFor(lon).admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: "sfo.calls.completed", numPartitions: 3 }]);
    await admin.disconnect();
    const producer = kafkaFor(lon).producer();
    await producer.connect();
    await producer.send({
      topic: "sfo.calls.completed",
      messages: [
        {
          key: stray.callId,
          value: await new EventCodec({ host: lon.registry.url }).encode("sfo.calls.completed", stray),
          headers: buildHeaders({
            eventId: stray.eventId,
            origin: "sfo",
            tenantId: strayTenant,
            groupId: group,
          }),
        },
      ],
    });
    await producer.disconnect();
    const result = await waitFor(
      async () => tandem(["verify", "--config", topologyFile, "--tenant", strayTenant, "--grace", "0"]),
      (r) => r.code === 1,
      120_000,
    );
    expect(result.out).toMatch(/verify nyc, lon: NOT consistent/);
    expect(result.out).toContain(`call ${stray.callId} at lon: unexpected`);
  });

  it("conflicts: concurrent edits at both sites open a conflict everywhere; resolving it at one clears it at both", async () => {
    await concurrentNameEdits(
      [
        { site: nyc, name: "Ada at nyc" },
        { site: lon, name: "Ada at lon" },
      ],
      { userId, tenantId: tenant, groupId: group },
    );
    for (const site of ["nyc", "lon"]) {
      const listed = await waitFor(
        async () => tandem(["conflicts", "list", "--config", topologyFile, "--site", site]),
        (r) => r.out.includes(userId),
        90_000,
      );
      expect(listed.out).toMatch(new RegExp(`${userId}\\s+name\\s+open\\s+2 sides`));
    }
    const shown = tandem(["conflicts", "show", "--config", topologyFile, "--site", "lon", "--user", userId]);
    expect(shown.out).toContain('"Ada at nyc" from nyc');
    expect(shown.out).toContain('"Ada at lon" from lon');

    const resolved = tandem([
      "conflicts",
      "resolve",
      "--config",
      topologyFile,
      "--site",
      "lon",
      "--user",
      userId,
      "--field",
      "name",
      "--value",
      '"Ada Lovelace"',
    ]);
    expect(resolved.code, resolved.err).toBe(0);
    for (const site of ["nyc", "lon"]) {
      const cleared = await waitFor(
        async () => tandem(["conflicts", "list", "--config", topologyFile, "--site", site, "--json"]),
        (r) => !r.out.includes(userId),
        90_000,
      );
      expect(cleared.code).toBe(0);
    }
    const final = await waitFor(
      async () => tandem(["verify", "--config", topologyFile, "--tenant", tenant, "--grace", "0"]),
      (r) => r.code === 0,
      60_000,
    );
    expect(final.out).toMatch(/users 1/);
  });

  it("status: links ok while both bridges run; a stopped bridge makes its link down and the exit code 1", async () => {
    const healthy = await waitFor(
      async () => tandem(["status", "--config", topologyFile, "--down-after", "20"]),
      (r) => r.code === 0,
      60_000,
    );
    expect(healthy.out).toMatch(/nyc->lon\s+ok/);
    expect(healthy.out).toMatch(/lon->nyc\s+ok/);
    // Each site's database answers for its audio copies still to make.
    expect(healthy.out).toMatch(/AUDIO-PENDING/);
    for (const site of ["nyc", "lon"])
      expect(healthy.out).toMatch(new RegExp(`^${site}\\s+up\\s.*\\s\\d+(?: \\(oldest \\d+s\\))?$`, "m"));

    const lonService = services.get("lon")!;
    lonService.kill("SIGTERM");
    expect(await exited(lonService)).toBe(0);
    const linkHealth = (out: string, link: string) =>
      (JSON.parse(out) as { links: Array<{ link: string; health: string }> }).links.find(
        (l) => l.link === link,
      )?.health;
    const down = await waitFor(
      async () => tandem(["status", "--config", topologyFile, "--down-after", "15", "--json"]),
      (r) => r.code === 1 && linkHealth(r.out, "nyc->lon") === "down",
      90_000,
    );
    expect(linkHealth(down.out, "nyc->lon")).toBe("down");
    // lon->nyc is pulled by nyc's bridge, which still runs.
    expect(linkHealth(down.out, "lon->nyc")).toBe("ok");
    startSite("lon");
  });

  it("a reader that stops reading ends the command quietly, with the status of a broken pipe", async () => {
    const child = spawn(process.execPath, [...TANDEM, "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(err).toBe("");
    expect(code).toBe(141);
  });

  it("bad flags and bad configuration: one line and exit code 2", () => {
    const badFlag = tandem(["status", "--max-lag", "many"]);
    expect(badFlag.code).toBe(2);
    expect(badFlag.err.trim().split("\n")).toHaveLength(1);
    const badSite = tandem(["run", "--config", topologyFile, "--site", "tokyo"]);
    expect(badSite.code).toBe(2);
    expect(badSite.err).toMatch(/site "tokyo" is not in the topology/);
    const badField = tandem([
      "conflicts",
      "resolve",
      "--config",
      topologyFile,
      "--site",
      "lon",
      "--user",
      userId,
      "--field",
      "shoe",
      "--value",
      "1",
    ]);
    expect(badField.code).toBe(2);
  });
});
