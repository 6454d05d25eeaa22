/**
 * The operator's console watching a three-site stack (bridges, materializers and a recorder at each site,
 * all real): its process's memory and CPU over the watch, and how long its pages take to load in Chromium
 * with 10,000 dead letters at a site and 1,000 open conflicts.
 *
 *   npx tsx bench/console.ts [--minutes 10] [--dlq 10000] [--conflicts 1000] [--base-port 27100]
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import pg from "pg";
import { chromium, type Page } from "playwright-core";
import { CALLS_TOPIC, DLQ_TOPIC } from "@tandem/events";
import { createKafka, deadLetterMessage } from "@tandem/kafka";
import { createLogger } from "@tandem/runtime";
import { LocalStack } from "@tandem/stack";
import { runBridge } from "../services/bridge/src";
import { runMaterializer } from "../services/materializer/src";
import { localTopology, meshLinks, writeTopologyFile } from "../services/cli/src/local-topology";
import { runRecorder } from "../services/recorder/src";
import { freshDatabase } from "../test/support/databases";
import { benchPublisher, printSideBySide } from "./one-site";
import { TANDEM } from "../test/support/processes";

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    dlq: { type: "string", default: "10000" },
    conflicts: { type: "string", default: "1000" },
    "base-port": { type: "string", default: "27100" },
    "data-dir": { type: "string", default: ".tandem/bench-console" },
  },
});
const minutes = Number(args.minutes);
const dlqRecords = Number(args.dlq);
const conflicts = Number(args.conflicts);
const basePort = Number(args["base-port"]);
const consolePort = basePort + 90;
const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const logger = createLogger("bench-console");
// The services log their warnings only: the figures are what the bench prints.
logger.level = "warn";

const stack = new LocalStack({
  dataDir: args["data-dir"],
  sites: ["nyc", "lon", "sfo"],
  basePort,
  progress: (message) => process.stderr.write(`[stack] ${message}\n`),
});
const endpoints = await stack.up();
const site = (id: string) => endpoints.sites.find((s) => s.site === id)!;
const databases = await Promise.all(endpoints.sites.map((s) => freshDatabase(s)));
const topology = localTopology(endpoints, meshLinks(["nyc", "lon", "sfo"]), { kind: "manual" });
topology.sites.forEach((s, i) => (s.postgres = { connectionString: databases[i]!.url }));
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-bench-console-"));
const topologyFile = path.join(workDir, "topology.yaml");
writeTopologyFile(topologyFile, topology);

const bridge = await runBridge({ topology, logger });
await bridge.ready;
const materializers = await Promise.all(
  topology.sites.map((s) => runMaterializer({ topology, siteId: s.id, logger })),
);

say(`seeding ${dlqRecords} dead letters at nyc and ${conflicts} conflicts (concurrent edits at nyc and lon)`);
const producer = createKafka(site("nyc").kafka, "bench-console", logger).producer();
await producer.connect();
for (let start = 0; start < dlqRecords; start += 500) {
  const messages = Array.from({ length: Math.min(500, dlqRecords - start) }, (_, i) =>
    deadLetterMessage({
      key: randomUUID(),
      value: Buffer.from(`not avro ${start + i}`),
      reason: "no-magic-byte: the value does not start with the wire format's magic byte",
      site: "nyc",
      component: "materializer nyc",
      source: { topic: CALLS_TOPIC, partition: 0, offset: String(start + i) },
    }),
  );
  await producer.send({ topic: DLQ_TOPIC, messages });
}
await producer.disconnect();
const tenantId = randomUUID();
const groupId = randomUUID();
const userIds = Array.from({ length: conflicts }, () => randomUUID());
for (const id of ["nyc", "lon"]) {
  const { publisher, close } = await benchPublisher(site(id), logger);
  for (let start = 0; start < userIds.length; start += 50) {
    await Promise.all(
      userIds.slice(start, start + 50).map((userId) =>
        publisher.publishUserChanged({
          userId,
          tenantId,
          groupId,
          operation: "UPSERT",
          changes: { name: `edited at ${id}` },
          baseVersion: {},
        }),
      ),
    );
  }
  await close();
}
const nycDb = new pg.Client({ connectionString: databases[0]!.url });
await nycDb.connect();
for (;;) {
  const { rows } = await nycDb.query<{ n: string }>(
    "SELECT count(*) AS n FROM conflicts WHERE status = 'open'",
  );
  if (Number(rows[0]!.n) >= conflicts) break;
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
await nycDb.end();

const password = randomUUID();
const consoleProcess = spawn(
  process.execPath,
  [...TANDEM, "console", "--config", topologyFile, "--listen", `127.0.0.1:${consolePort}`],
  {
    env: { ...process.env, TANDEM_CONSOLE_ADMIN_PASSWORD: password },
    stdio: ["ignore", "ignore", "inherit"],
  },
);
const url = `http://127.0.0.1:${consolePort}`;
for (;;) {
  if (
    (await fetch(`${url}/login.html`)
      .then((r) => r.status)
      .catch(() => 0)) === 200
  )
    break;
  await new Promise((resolve) => setTimeout(resolve, 500));
}

const browser = await chromium.launch({
  executablePath: process.env.TANDEM_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const page = await browser.newPage();
await page.goto(`${url}/login.html`);
await page.fill("#user", "admin");
await page.fill("#password", password);
await page.click("#login");
await page.waitForURL(/overview\.html$/);

/** What the page function uses of the browser's globals (the tools project has no DOM types). */
interface BrowserWindow {
  document: { querySelectorAll(selector: string): { length: number } };
}

/**
 * From navigation until the page holds at least `rows` elements matching `selector`, in ms: the median of
 * three loads. (A function, not a string: the console's content security policy forbids eval.)
 */
async function loadTime(pagePath: string, selector: string, rows: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await (page as Page).goto(`${url}${pagePath}`);
    await page.waitForFunction(
      ({ selector, rows }) =>
        (globalThis as unknown as BrowserWindow).document.querySelectorAll(selector).length >= rows,
      { selector, rows },
      { timeout: 120_000, polling: 50 },
    );
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[1]!;
}
const loads = [
  ["overview", await loadTime("/overview.html", "#links tr", 7)],
  [
    `conflicts (${conflicts} per site)`,
    await loadTime("/conflicts.html", '.conflict[data-site="nyc"]', conflicts),
  ],
  [`DLQ (${dlqRecords} at nyc)`, await loadTime("/dlq.html", "#dlq tr", 2)],
] as const;
await browser.close();

say(`watching for ${minutes} min with a recorder at each site`);
const recorders = topology.sites.map((s, index) =>
  runRecorder({
    site: s,
    callsPerSecond: 1,
    userChangesPerSecond: 0.2,
    maxCallSeconds: 10,
    durationSeconds: minutes * 60,
    seed: index + 1,
    logger,
  }),
);
const ticksPerSecond = 100;
const cpuSeconds = () => {
  const fields = fs.readFileSync(`/proc/${consoleProcess.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
};
const rssMb = () =>
  Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${consoleProcess.pid}/status`, "utf8"))![1]) / 1024;
const rss: number[] = [];
const startCpu = cpuSeconds();
const startedAt = performance.now();
while (performance.now() - startedAt < minutes * 60_000) {
  rss.push(rssMb());
  await new Promise((resolve) => setTimeout(resolve, 10_000));
}
const cpuPercent = ((cpuSeconds() - startCpu) * 100_000) / (performance.now() - startedAt);
await Promise.all(recorders.map((r) => r.stop()));

consoleProcess.kill("SIGTERM");
await new Promise((resolve) => consoleProcess.once("exit", resolve));
await bridge.stop();
await Promise.all(materializers.map((m) => m.stop()));
for (const db of databases) await db.drop();
fs.rmSync(workDir, { recursive: true, force: true });

printSideBySide(
  "tandem console watching three sites (mesh of 6 links, a recorder per site), sampling every 5 s",
  `watched ${minutes} min; page load = navigation until the page shows its data, median of 3, Chromium`,
  [
    ["figure", "value"],
    ["console RSS, mean", `${(rss.reduce((a, b) => a + b, 0) / rss.length).toFixed(0)} MB`],
    ["console RSS, max", `${Math.max(...rss).toFixed(0)} MB`],
    ["console CPU, mean", `${cpuPercent.toFixed(1)} % of one core`],
    ...loads.map(([name, ms]) => [`load: ${name}`, `${(ms / 1000).toFixed(2)} s`]),
  ],
);
