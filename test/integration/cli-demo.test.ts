import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LocalStack } from "@tandem/stack";
import { ownStackTurn } from "../support/own-stack-turn";
import { exited, spawnTandem } from "../support/processes";
import { logsLeakingSecrets, stackSecrets } from "../support/secrets";
import { DEMO_BASE_PORT, laneDataDir } from "../support/test-stack";

const consoleAddress = `127.0.0.1:${DEMO_BASE_PORT + 90}`;

/** The README's first command, end to end, on a two-site stack of its own (not the shared test stack). */
const dataDir = laneDataDir("test-demo");

let demo: ChildProcess | undefined;
let releaseTurn: (() => void) | undefined;

beforeAll(async () => {
  releaseTurn = await ownStackTurn();
}, 900_000);

afterAll(async () => {
  // A demo still running when the test gave up would go on using the next run's servers on these ports.
  if (demo !== undefined && demo.exitCode === null && demo.signalCode === null) {
    demo.kill("SIGKILL");
    await exited(demo);
  }
  try {
    await new LocalStack({ dataDir }).down();
  } finally {
    releaseTurn?.();
  }
});

it("tandem demo records at both sites, replicates both ways, converges and says so", async () => {
  fs.mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(dataDir, "demo-output.log");
  fs.rmSync(logFile, { force: true });
  demo = spawnTandem(
    [
      "demo",
      "--data-dir",
      dataDir,
      "--base-port",
      String(DEMO_BASE_PORT),
      "--duration",
      "15",
      "--calls-per-second",
      "1",
      "--user-changes-per-second",
      "1",
      "--max-call-seconds",
      "5",
      "--settle-timeout",
      "240",
      "--console",
      consoleAddress,
    ],
    logFile,
  );
  const code = await exited(demo);
  const output = fs.readFileSync(logFile, "utf8");
  expect(output, output).toMatch(/verify nyc, lon: consistent/);
  expect(code).toBe(0);
  expect(output).toContain(`console at http://${consoleAddress}/ while the demo runs (user admin, `);
  const calls = /nyc\s+calls (\d+).*\n\s+lon\s+calls (\d+)/.exec(output);
  expect(Number(calls?.[1])).toBeGreaterThan(5);
  expect(calls?.[1]).toBe(calls?.[2]);

  // No credential of the stack appears in what the demo printed or in its services' logs.
  const secrets = stackSecrets(dataDir);
  expect(secrets).toHaveLength(3);
  expect(fs.statSync(path.join(dataDir, "demo.log")).size).toBeGreaterThan(0);
  expect(logsLeakingSecrets(dataDir, secrets)).toEqual([]);
}, 600_000);
