import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { tandemNodeArgs } from "../../scripts/cli-bundle.mjs";

const REPO = path.resolve(import.meta.dirname, "../..");
/** Node's arguments that run `tandem`, as ./tandem runs it (the bundle global-setup.ts built). */
export const TANDEM = await tandemNodeArgs();

/** Runs the real `tandem` command in a child process (its output goes to `logFile`), as an operator would. */
export function spawnTandem(args: string[], logFile: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const log = fs.openSync(logFile, "a");
  const child = spawn(process.execPath, [...TANDEM, ...args], {
    cwd: REPO,
    env: { ...process.env, TANDEM_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", log, log],
  });
  fs.closeSync(log);
  return child;
}

/**
 * `tandem run` of a site as a child process, logging to `<site>.log` in `dir`, its materializer in a
 * group of its own (so that it reads the site's whole log into the test's fresh database).
 */
export function runSite(topologyFile: string, site: string, dir: string, test: string): ChildProcess {
  return spawnTandem(
    ["run", "--config", topologyFile, "--site", site, "--instance", `${test}-${site}`],
    path.join(dir, `${site}.log`),
    { TANDEM_MATERIALIZER_GROUP: `${test}-test-${site}-${crypto.randomUUID()}` },
  );
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** SIGTERM to each child, as a service manager stops them, and waits for every exit. */
export async function terminateAll(children: Iterable<ChildProcess>): Promise<void> {
  for (const child of children) {
    child.kill("SIGTERM");
    await exited(child);
  }
}

export async function killHard(child: ChildProcess): Promise<void> {
  child.kill("SIGKILL");
  await exited(child);
}

/** Runs a `tandem` command to its end, as an operator at a shell would, and returns its exit code and output. */
export function runTandem(
  args: string[],
  timeoutMs = 60_000,
): { code: number | null; out: string; err: string } {
  const result = spawnSync(process.execPath, [...TANDEM, ...args], {
    cwd: REPO,
    encoding: "utf8",
    timeout: timeoutMs,
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}
