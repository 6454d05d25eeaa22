import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLogger } from "@tandem/runtime";
import { LocalStack, wanLayoutOf, type StackEndpoints } from "@tandem/stack";
import { localTopology, meshLinks } from "../../services/cli/src/local-topology";
import { formatSoakReport } from "../support/soak/report";
import { runSoak } from "../support/soak/soak";
import { freshDatabase } from "../support/databases";
import { ownStackTurn } from "../support/own-stack-turn";
import { logsLeakingSecrets, stackSecrets } from "../support/secrets";
import { SOAK_BASE_PORT, TEST_SITES, laneDataDir } from "../support/test-stack";

/**
 * The short soak, on a three-site stack of its own in the mode users are told to run: Kafka over TLS with
 * SASL/SCRAM (the shared test stack is plain), across the default WAN profile, where a cut link is a cut.
 */
const dataDir = laneDataDir("test-soak");
const soakStack = new LocalStack({
  dataDir,
  sites: TEST_SITES,
  basePort: SOAK_BASE_PORT,
  secure: true,
  wan: wanLayoutOf(undefined, [], TEST_SITES),
});
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-soak-"));
const logger = createLogger("soak-test");
logger.level = "error";
let endpoints: StackEndpoints;
let releaseTurn: (() => void) | undefined;

beforeAll(async () => {
  releaseTurn = await ownStackTurn();
  endpoints = await soakStack.up();
}, 900_000);

afterAll(async () => {
  try {
    await soakStack.down();
  } finally {
    releaseTurn?.();
  }
});

it("converges after a minute and a half of overlapping faults, with no call lost or duplicated", async () => {
  const databases = await Promise.all(endpoints.sites.map((site) => freshDatabase(site)));
  const report = await runSoak({
    topology: localTopology(endpoints, meshLinks(TEST_SITES)),
    databases: Object.fromEntries(endpoints.sites.map((site, i) => [site.site, databases[i]!.url])),
    control: {
      stop: (site, kind) => soakStack.stopServer(site, kind),
      start: (site, kind) => soakStack.startServer(site, kind),
      wan: soakStack.wanControl(),
    },
    seed: 1,
    durationMs: 90_000,
    workDir,
    callsPerSecond: 0.5,
    userChangesPerSecond: 0.3,
    contestEveryMs: 15_000,
    settleTimeoutMs: 240_000,
    // Shorter faults and gaps than the long run, so that 90 seconds try every kind.
    schedule: { minGapMs: 3000, maxGapMs: 10_000, minFaultMs: 5000, maxFaultMs: 15_000 },
    logger,
    say: (line) => process.stderr.write(`[soak] ${line}\n`),
  });
  process.stderr.write(`${formatSoakReport(report).join("\n")}\n`);
  expect(report.problems).toEqual([]);
  expect(report.converged).toBe(true);
  // A service that dies by itself (not killed by the schedule) is a defect even if the sites converge.
  expect(Object.entries(report.unexpectedExits).filter(([, exits]) => exits > 0)).toEqual([]);
  expect(Object.values(report.faultsInjected).every((n) => n > 0)).toBe(true);
  expect(report.callsRecorded).toBeGreaterThan(0);
  for (const reading of report.readings) {
    expect(reading.calls).toBe(report.callsRecorded);
    expect(reading.conflicts.length).toBeGreaterThan(0);
  }

  // Six bridges and three materializers logged the whole run; none of them wrote a credential.
  const logDir = path.join(workDir, "logs");
  expect(fs.readdirSync(logDir)).toHaveLength(9);
  const secrets = stackSecrets(dataDir);
  expect(secrets).toHaveLength(5);
  expect(logsLeakingSecrets(logDir, secrets)).toEqual([]);
}, 600_000);
