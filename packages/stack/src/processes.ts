import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SERVER_LOG } from "./layout";

/** A server process the stack started, remembered by a pid file in its own directory. */
export interface ManagedProcess {
  name: string;
  dir: string;
  /** A string that must appear in the process command line: proof that a pid is still ours. */
  marker: string;
  stopSignal: NodeJS.Signals;
}

const pidFile = (proc: ManagedProcess) => path.join(proc.dir, "server.pid");
export const logFile = (proc: ManagedProcess) => path.join(proc.dir, SERVER_LOG);

function commandLineOf(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return undefined;
  }
}

/** The pid of the running process, or undefined when it is not running (a stale pid file is removed). */
export function runningPid(proc: ManagedProcess): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile(proc), "utf8").trim());
  } catch {
    return undefined;
  }
  const commandLine = Number.isInteger(pid) && pid > 0 ? commandLineOf(pid) : undefined;
  if (commandLine?.includes(proc.marker)) return pid;
  // A process shows no command line while it execs (setpriv starting the server as its user): still ours.
  if (commandLine === "" && !isZombie(pid)) return pid;
  fs.rmSync(pidFile(proc), { force: true });
  return undefined;
}

export function startDetached(
  proc: ManagedProcess,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): number {
  fs.mkdirSync(proc.dir, { recursive: true });
  const log = fs.openSync(logFile(proc), "a");
  const child = spawn(command, args, { cwd: proc.dir, env, detached: true, stdio: ["ignore", log, log] });
  fs.closeSync(log);
  if (child.pid === undefined) throw new Error(`${proc.name}: could not start ${command}`);
  child.unref();
  fs.writeFileSync(pidFile(proc), `${child.pid}\n`);
  return child.pid;
}

export async function stopProcess(proc: ManagedProcess, graceMs = 30_000): Promise<boolean> {
  const pid = runningPid(proc);
  if (pid === undefined) return false;
  process.kill(pid, proc.stopSignal);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (commandLineOf(pid) === undefined || isZombie(pid)) break;
    await sleep(200);
  }
  if (commandLineOf(pid) !== undefined && !isZombie(pid)) process.kill(pid, "SIGKILL");
  fs.rmSync(pidFile(proc), { force: true });
  return true;
}

/** SIGKILL, as a crash would: for fault-injection tests. */
export function killProcess(proc: ManagedProcess): boolean {
  const pid = runningPid(proc);
  if (pid === undefined) return false;
  process.kill(pid, "SIGKILL");
  return true;
}

function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

export function lastLogLines(proc: ManagedProcess, count = 15): string {
  try {
    return fs.readFileSync(logFile(proc), "utf8").trimEnd().split("\n").slice(-count).join("\n");
  } catch {
    return "(no log)";
  }
}

export function isPortOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Polls `check` until it returns true, the process dies, or the timeout passes. */
export async function waitUntil(
  proc: ManagedProcess,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    if (runningPid(proc) === undefined) {
      throw new Error(`${proc.name} exited while starting (log ${logFile(proc)}):\n${lastLogLines(proc)}`);
    }
    await sleep(500);
  }
  throw new Error(
    `${proc.name} did not ${what} within ${timeoutMs / 1000}s (log ${logFile(proc)}):\n${lastLogLines(proc)}`,
  );
}
