import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import pg from "pg";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLS_TOPIC } from "@tandem/events";
import { concurrentNameEdits, kafkaFor } from "../support/clients";
import { freshDatabase } from "../support/databases";
import { publishCalls, waitFor } from "../support/events";
import { exited, spawnTandem, terminateAll } from "../support/processes";
import { stack } from "../support/stack";
import { TEST_BASE_PORT } from "../support/test-stack";
import { topologyOf, twoWay, writeTopologyFile } from "../support/topology";

/**
 * The operator's console in Chromium, served by `tandem console` against two real sites that `tandem run`
 * serves (bridges and materializers as child processes): overview, conflicts, access, DLQ, audit, lag.
 */
const test = await stack();
const nyc = test.site("nyc");
const lon = test.site("lon");
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-console-"));
const topologyFile = path.join(workDir, "topology.yaml");
const artifacts = path.resolve(import.meta.dirname, "../../.tandem/artifacts/console");
// Ports after the test stack's sites (ten each, three sites).
const consolePort = TEST_BASE_PORT + 90;
const bridgePorts = { nyc: TEST_BASE_PORT + 91, lon: TEST_BASE_PORT + 92 };
const consoleUrl = `http://127.0.0.1:${consolePort}`;
const passwords = { admin: randomUUID(), viewer: randomUUID() };
const databases: Array<{ url: string; drop: () => Promise<void> }> = [];
const services = new Map<string, ChildProcess>();
let consoleProcess: ChildProcess;
let browser: Browser;
let admin: Page;
let secrets: string[];

function startSite(site: "nyc" | "lon"): void {
  services.set(
    site,
    spawnTandem(
      [
        "run",
        "--config",
        topologyFile,
        "--site",
        site,
        "--instance",
        `console-${site}`,
        "--bridge-ops-port",
        String(bridgePorts[site]),
      ],
      path.join(workDir, `${site}.log`),
      { TANDEM_MATERIALIZER_GROUP: `console-test-${site}-${randomUUID()}` },
    ),
  );
}

async function loggedIn(user: "admin" | "viewer"): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(`${consoleUrl}/`);
  await page.waitForURL(/login\.html$/);
  await page.fill("#user", user);
  await page.fill("#password", passwords[user]);
  await page.click("#login");
  await page.waitForURL(/overview\.html$/);
  return page;
}

/**
 * A screenshot artifact of the viewport (a kept stack's logs may fill the conflicts page with earlier runs'
 * conflicts, too tall to capture whole); Chromium on a loaded machine sometimes fails a capture, so it is tried again. */
async function shot(page: Page, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.screenshot({ path: path.join(artifacts, `${name}.png`), timeout: 20_000 });
      return;
    } catch (error) {
      if (attempt === 3) throw error;
      await page.waitForTimeout(500);
    }
  }
}

/** A request from the page itself, as its scripts make them, with or without the session's CSRF token. */
async function post(page: Page, url: string, body: unknown, withToken: boolean): Promise<number> {
  return page.evaluate(
    async ({ url, body, withToken }) => {
      const { csrfToken } = (await (await fetch("/api/session")).json()) as { csrfToken: string };
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...(withToken ? { "x-csrf-token": csrfToken } : {}) },
        body: JSON.stringify(body),
      });
      return response.status;
    },
    { url, body, withToken },
  );
}

const linkCell = (page: Page, link: string, field: string) =>
  page.locator(`#links tr[data-link="${link}"] [data-field="${field}"]`);

async function openConflicts(url: string, userId: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM conflicts WHERE user_id = $1 AND status = 'open'",
      [userId],
    );
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  databases.push(await freshDatabase(nyc), await freshDatabase(lon));
  const topology = topologyOf([nyc, lon], twoWay("nyc", "lon"), { kind: "manual" });
  topology.sites[0]!.postgres = { connectionString: databases[0]!.url };
  topology.sites[1]!.postgres = { connectionString: databases[1]!.url };
  writeTopologyFile(topologyFile, topology);
  secrets = topology.sites.flatMap((site, index) => {
    const store = site.objectStore as { accessKeyId?: string; secretAccessKey?: string };
    const { password } = new URL(databases[index]!.url);
    return [
      store.accessKeyId!,
      store.secretAccessKey!,
      databases[index]!.url,
      ...(password ? [password] : []),
    ];
  });
  startSite("nyc");
  startSite("lon");
  consoleProcess = spawnTandem(
    [
      "console",
      "--config",
      topologyFile,
      "--listen",
      `127.0.0.1:${consolePort}`,
      "--interval",
      "2",
      "--down-after",
      "15",
      "--bridge-url",
      `nyc=http://127.0.0.1:${bridgePorts.nyc}`,
      "--bridge-url",
      `lon=http://127.0.0.1:${bridgePorts.lon}`,
    ],
    path.join(workDir, "console.log"),
    { TANDEM_CONSOLE_ADMIN_PASSWORD: passwords.admin, TANDEM_CONSOLE_VIEWER_PASSWORD: passwords.viewer },
  );
  await waitFor(
    async () =>
      fetch(`${consoleUrl}/login.html`)
        .then((r) => r.status)
        .catch(() => 0),
    (status) => status === 200,
    60_000,
  );
  browser = await chromium.launch({
    executablePath: process.env.TANDEM_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  admin = await loggedIn("admin");
});

afterAll(async () => {
  await browser?.close();
  if (consoleProcess?.exitCode === null) {
    consoleProcess.kill("SIGTERM");
    await exited(consoleProcess);
  }
  await terminateAll(services.values());
  for (const db of databases) await db.drop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe("the operator's console", () => {
  const tenant = randomUUID();
  const group = randomUUID();

  it("overview: both links running, with the sites' figures, updated live", async () => {
    await publishCalls(nyc, 3, tenant, group);
    for (const link of ["nyc->lon", "lon->nyc"])
      await linkCell(admin, link, "state")
        .filter({ hasText: /^running$/ })
        .waitFor({ timeout: 90_000 });
    // The sites' logs may hold calls of earlier runs on the same stack: at least these three are counted.
    const lonCalls = admin.locator('#sites tr[data-site="lon"] td:nth-child(3)');
    const counted = await waitFor(
      async () => Number(await lonCalls.textContent()),
      (n) => n >= 3,
      60_000,
    );
    expect(counted).toBeGreaterThanOrEqual(3);
    await shot(admin, "overview");
  });

  it("no secret of the topology is in any page or API answer", async () => {
    const paths = [
      "/overview.html",
      "/lag.html",
      "/conflicts.html",
      "/dlq.html",
      "/audit.html",
      "/login.html",
      "/common.js",
      "/api/overview",
      "/api/lag",
      "/api/conflicts",
      "/api/links",
      "/api/dlq",
      "/api/session",
    ];
    const bodies = await admin.evaluate(
      async (paths) => Promise.all(paths.map(async (p) => `${p}\n${await (await fetch(p)).text()}`)),
      paths,
    );
    for (const body of bodies) {
      expect(body.length).toBeGreaterThan(20);
      for (const secret of secrets) expect(body, body.split("\n")[0]).not.toContain(secret);
    }
  });

  it("conflicts: concurrent edits are shown side by side and resolved from the page at both sites", async () => {
    const userId = randomUUID();
    await concurrentNameEdits(
      [
        { site: nyc, name: "Ada at nyc" },
        { site: lon, name: "Ada at lon" },
      ],
      { userId, tenantId: tenant, groupId: group },
    );
    await admin.goto(`${consoleUrl}/conflicts.html`);
    const atLon = admin.locator(`.conflict[data-site="lon"][data-user="${userId}"]`);
    const atNyc = admin.locator(`.conflict[data-site="nyc"][data-user="${userId}"]`);
    await atLon.waitFor({ timeout: 90_000 });
    await atNyc.waitFor({ timeout: 90_000 });
    await expect(atLon.locator('.side[data-origin="nyc"]').textContent()).resolves.toContain('"Ada at nyc"');
    await expect(atLon.locator('.side[data-origin="lon"]').textContent()).resolves.toContain('"Ada at lon"');
    await shot(admin, "conflicts");

    await atLon.locator('.side[data-origin="nyc"] button.keep').click();
    await admin.locator("#status").filter({ hasText: "published" }).waitFor();
    await atLon.waitFor({ state: "detached", timeout: 90_000 });
    await atNyc.waitFor({ state: "detached", timeout: 90_000 });
    expect(await openConflicts(databases[0]!.url, userId)).toBe(0);
    expect(await openConflicts(databases[1]!.url, userId)).toBe(0);
  });

  it("a viewer sees the queue but cannot resolve nor trigger", async () => {
    const viewer = await loggedIn("viewer");
    await expect(viewer.locator("#role").textContent()).resolves.toBe("viewer");
    const resolution = { site: "lon", userId: randomUUID(), field: "name", value: "x" };
    expect(await post(viewer, "/api/conflicts/resolve", resolution, true)).toBe(403);
    expect(await post(viewer, "/api/links/catch-up", { link: "nyc->lon" }, true)).toBe(403);
    await viewer.goto(`${consoleUrl}/audit.html`);
    await viewer.locator("button", { hasText: "Catch up now" }).first().waitFor();
    expect(await viewer.locator("button", { hasText: "Catch up now" }).first().isDisabled()).toBe(true);
    await viewer.context().close();
  });

  it("a change without the CSRF token is refused, even from a logged-in admin", async () => {
    const resolution = { site: "lon", userId: randomUUID(), field: "name", value: "x" };
    expect(await post(admin, "/api/conflicts/resolve", resolution, false)).toBe(403);
    expect(await post(admin, "/api/links/catch-up", { link: "nyc->lon" }, false)).toBe(403);
    // The token is checked, not only present: the same request with it passes the check (400: no such user).
    expect(await post(admin, "/api/conflicts/resolve", { ...resolution, field: "shoe" }, true)).toBe(400);
  });

  it("DLQ: a record that is not Avro shows its reason, component and source coordinates", async () => {
    const producer = kafkaFor(nyc).producer();
    await producer.connect();
    const [sent] = await producer.send({
      topic: CALLS_TOPIC,
      messages: [{ key: randomUUID(), value: Buffer.from("not avro at all") }],
    });
    await producer.disconnect();
    const source = `${CALLS_TOPIC} [${sent!.partition}] @${sent!.baseOffset}`;
    await admin.goto(`${consoleUrl}/dlq.html`);
    await admin.selectOption("#site", "nyc");
    await admin.fill("#reason", "magic");
    const row = admin.locator("#dlq tr", { hasText: source });
    await waitFor(
      async () => {
        await admin.click("#filter");
        await admin.locator("#dlq").waitFor();
        return row.count();
      },
      (n) => n > 0,
      90_000,
    );
    await expect(row.first().locator(".reason").textContent()).resolves.toMatch(/magic/);
    await shot(admin, "dlq");
  });

  it("DLQ: a filter's answer stays when the page's slower first load answers after it", async () => {
    const page = await admin.context().newPage();
    const isDlq = (url: string, filtered: boolean) =>
      url.includes("/api/dlq?") && (new URL(url).searchParams.get("reason") !== "") === filtered;
    const filteredAnswer = page.waitForResponse((response) => isDlq(response.url(), true));
    const firstLoadAnswer = page.waitForResponse((response) => isDlq(response.url(), false));
    // The page's first load (no filter; the DLQ above is not empty) is held until the filter has been answered.
    await page.route("**/api/dlq?**", async (route) => {
      if (!isDlq(route.request().url(), true)) await filteredAnswer;
      await route.continue();
    });
    await page.goto(`${consoleUrl}/dlq.html`, { waitUntil: "commit" });
    await page.fill("#reason", `no reason is this ${randomUUID()}`);
    await page.click("#filter");
    await filteredAnswer;
    await firstLoadAnswer;
    // The stale answer needs no more than its JSON parse to be shown, were it shown.
    await page.waitForTimeout(1_000);
    await expect(page.locator("#summary").textContent()).resolves.toMatch(
      /^0 of the \d+ newest dead letters match/,
    );
    await expect(page.locator("#dlq tr").count()).resolves.toBe(1);
    await page.close();
  });

  it("audit: verify of both sites for the tenant, and a manual catch-up, from the page", async () => {
    await admin.goto(`${consoleUrl}/audit.html`);
    await admin.fill("#tenant", tenant);
    await admin.click("#verify");
    await admin.locator("#verdict").waitFor({ timeout: 60_000 });
    await expect(admin.locator("#verdict").textContent()).resolves.toMatch(/nyc, lon: consistent/);
    // The manual catch-up asks the bridge that pulls the link (nyc's, for lon->nyc), as tandem replicate does.
    await admin.locator("tr", { hasText: "lon->nyc" }).locator("button", { hasText: "Catch up now" }).click();
    await admin
      .locator("#catch-up-status")
      .filter({ hasText: "Catch-up of lon->nyc started" })
      .waitFor({ timeout: 30_000 });
    await shot(admin, "audit");
    await admin.goto(`${consoleUrl}/lag.html`);
    await admin.locator('.chart[data-link="nyc->lon"] canvas').waitFor();
    await shot(admin, "lag");
  });

  it("a stopped bridge: its link shows down and a growing lag", async () => {
    await admin.goto(`${consoleUrl}/overview.html`);
    const lonService = services.get("lon")!;
    lonService.kill("SIGTERM");
    expect(await exited(lonService)).toBe(0);
    await publishCalls(nyc, 5, tenant, group);
    await linkCell(admin, "nyc->lon", "state")
      .filter({ hasText: /^down$/ })
      .waitFor({ timeout: 90_000 });
    const lag = async () => Number(await linkCell(admin, "nyc->lon", "lag-records").textContent());
    const before = await lag();
    expect(before).toBeGreaterThanOrEqual(5);
    await publishCalls(nyc, 5, tenant, group);
    const after = await waitFor(lag, (n) => n >= before + 5, 30_000);
    expect(after).toBeGreaterThanOrEqual(before + 5);
    await expect(linkCell(admin, "lon->nyc", "state").textContent()).resolves.toBe("running");
    await shot(admin, "overview-link-down");
  });

  it("SIGTERM: the console closes its live streams and exits 0", async () => {
    consoleProcess.kill("SIGTERM");
    expect(await exited(consoleProcess)).toBe(0);
    expect(fs.readFileSync(path.join(workDir, "console.log"), "utf8")).toContain("tandem console: stopped");
  });
});
