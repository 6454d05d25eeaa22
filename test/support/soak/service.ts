import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { REPO_ROOT } from "../../../services/cli/src/defaults";
import { TANDEM } from "../processes";

export interface ServiceSpec {
  /** For the figures and logs, e.g. `bridge nyc->lon` or `materializer lon`. */
  name: string;
  /** Arguments of the `tandem` command. */
  args: string[];
  env?: NodeJS.ProcessEnv;
  logFile: string;
}

/**
 * One `tandem run` child process, as an operator's supervisor keeps it: it can be SIGKILLed, frozen
 * (SIGSTOP) and thawed, and is started again when it exits without being asked to.
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private wanted = false;
  /** Exits nobody asked for: a service is meant to ride out outages without exiting. */
  unexpectedExits = 0;

  constructor(readonly spec: ServiceSpec) {}

  start(): void {
    this.wanted = true;
    const log = fs.openSync(this.spec.logFile, "a");
    const child = spawn(process.execPath, [...TANDEM, ...this.spec.args], {
      cwd: REPO_ROOT,
      env: { ...process.env, TANDEM_LOG_LEVEL: "info", ...this.spec.env },
      stdio: ["ignore", log, log],
    });
    fs.closeSync(log);
    this.child = child;
    child.once("exit", () => {
      if (this.child !== child || !this.wanted) return;
      this.unexpectedExits++;
      setTimeout(() => {
        if (this.child === child && this.wanted) this.start();
      }, 1000);
    });
  }

  /** A crash: SIGKILL, nothing finished or committed. */
  async kill(): Promise<void> {
    this.wanted = false;
    await this.signalAndWait("SIGKILL");
  }

  freeze(): void {
    this.child?.kill("SIGSTOP");
  }

  thaw(): void {
    this.child?.kill("SIGCONT");
  }

  /** A clean stop (SIGTERM), SIGKILL if it takes longer than `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    this.wanted = false;
    this.thaw();
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), graceMs);
    await this.signalAndWait("SIGTERM");
    clearTimeout(timer);
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
  }
}
