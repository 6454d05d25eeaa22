/**
 * The long soak on a stack of its own: `npx tsx test/soak/run.ts --minutes 10 --seed 1 [--keep]`.
 * Exits 0 only if the sites converged after the faults, no service died by itself and none logged a
 * credential.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { LocalStack, wanLayoutOf } from "@tandem/stack";
import { localTopology, meshLinks } from "../../services/cli/src/local-topology";
import { formatSoakReport } from "../support/soak/report";
import { runSoak } from "../support/soak/soak";
import { freshDatabase } from "../support/databases";
import { logsLeakingSecrets, stackSecrets } from "../support/secrets";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    seed: { type: "string", default: "1" },
    keep: { type: "boolean", default: false },
    "data-dir": { type: "string", default: ".tandem/soak" },
    "base-port": { type: "string", default: "22000" },
    wan: { type: "string", default: "" },
  },
});
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error(`--minutes must be a number > 0, got ${values.minutes}`);
const dataDir = path.resolve(values["data-dir"]);
const say = (line: string) => process.stdout.write(`${line}\n`);

const stack = new LocalStack({
  dataDir,
  sites: ["nyc", "lon", "sfo"],
  basePort: Number(values["base-port"]),
  // The soak runs the mode users are told to run: Kafka over TLS with SASL/SCRAM.
  secure: true,
  // Across a WAN (Toxiproxy), where a cut link is a real cut: --wan rtt=150ms,bandwidth=20mbit to change it.
  wan: wanLayoutOf(values.wan, [], ["nyc", "lon", "sfo"]),
  progress: (message) => say(`[stack] ${message}`),
});
let passed = false;
try {
  const endpoints = await stack.up();
  const runTag = Date.now().toString(36);
  // A new database per site and run: a kept stack's earlier runs do not count.
  const databases = Object.fromEntries(
    await Promise.all(endpoints.sites.map(async (s) => [s.site, (await freshDatabase(s)).url] as const)),
  );
  const workDir = path.join(dataDir, "runs", runTag);
  const logger = pino(
    { level: "info" },
    pino.destination({ dest: path.join(workDir, "soak.log"), mkdir: true }),
  );
  const report = await runSoak({
    topology: localTopology(endpoints, meshLinks(endpoints.sites.map((s) => s.site))),
    databases,
    control: {
      stop: (site, kind) => stack.stopServer(site, kind),
      start: (site, kind) => stack.startServer(site, kind),
      wan: stack.wanControl(),
    },
    seed: values.seed,
    durationMs: minutes * 60_000,
    workDir,
    settleTimeoutMs: 600_000,
    logger,
    say,
  });
  for (const line of formatSoakReport(report)) say(line);
  const leaks = logsLeakingSecrets(path.join(workDir, "logs"), stackSecrets(dataDir));
  say(`credentials in the services' logs: ${leaks.length === 0 ? "none" : leaks.join(", ")}`);
  const crashed = Object.values(report.unexpectedExits).some((exits) => exits > 0);
  passed = report.converged && leaks.length === 0 && !crashed;
} finally {
  if (!values.keep) await stack.down();
}
process.exit(passed ? 0 : 1);
