import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { createLogger } from "@tandem/runtime";
import { localTopology, meshLinks } from "../../services/cli/src/local-topology";
import { formatSoakReport } from "../../services/cli/src/soak/report";
import { runSoak } from "../../services/cli/src/soak/soak";
import { freshDatabase } from "../support/databases";
import { stack } from "../support/stack";
import { TEST_SITES } from "../support/test-stack";

const testStack = await stack();
const sites = TEST_SITES.map((id) => testStack.site(id));
const databases = await Promise.all(sites.map((site) => freshDatabase(site)));
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-soak-"));
const logger = createLogger("soak-test");
logger.level = "error";

afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
});

it("converges after a minute and a half of overlapping faults, with no call lost or duplicated", async () => {
  const report = await runSoak({
    topology: localTopology(testStack.endpoints, meshLinks(TEST_SITES)),
    databases: Object.fromEntries(TEST_SITES.map((id, i) => [id, databases[i]!.url])),
    control: { stop: testStack.stop, start: testStack.start },
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
  expect(Object.values(report.faultsInjected).every((n) => n > 0)).toBe(true);
  expect(report.callsRecorded).toBeGreaterThan(0);
  for (const reading of report.readings) {
    expect(reading.calls).toBe(report.callsRecorded);
    expect(reading.conflicts.length).toBeGreaterThan(0);
  }
}, 600_000);
