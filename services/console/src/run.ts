import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Topology } from "@tandem/config";
import type { Thresholds } from "@tandem/operations";
import { refusal, type Credentials, type ListenAddress } from "./core/access";
import { buildServer } from "./server";
import { Watcher } from "./watcher";

export interface ConsoleOptions {
  topology: Topology;
  listen: ListenAddress;
  /** From the environment; the admin's is generated into `generatedPasswordFile` when absent. */
  credentials: Partial<Credentials>;
  generatedPasswordFile: string;
  bridgeUrls: ReadonlyMap<string, string>;
  thresholds: Thresholds;
  intervalMs: number;
  historyMs: number;
}

export interface RunningConsole {
  url: string;
  /** Where the generated admin password was written, when one was. */
  passwordFile: string | undefined;
  stop(): Promise<void>;
}

export class ConsoleRefused extends Error {}

/** Serves the console until stopped; refuses (ConsoleRefused) an address it may not listen on. */
export async function runConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const refused = refusal(options.listen, options.credentials);
  if (refused !== undefined) throw new ConsoleRefused(refused);
  let passwordFile: string | undefined;
  let adminPassword = options.credentials.adminPassword;
  if (!adminPassword) {
    // Only on loopback: a password for whoever can read this file, never printed.
    adminPassword = randomBytes(18).toString("base64url");
    fs.mkdirSync(path.dirname(options.generatedPasswordFile), { recursive: true });
    fs.writeFileSync(options.generatedPasswordFile, `${adminPassword}\n`, { mode: 0o600 });
    fs.chmodSync(options.generatedPasswordFile, 0o600);
    passwordFile = options.generatedPasswordFile;
  }
  const watcher = new Watcher({
    topology: options.topology,
    thresholds: options.thresholds,
    intervalMs: options.intervalMs,
    historyMs: options.historyMs,
  });
  const app = await buildServer({
    topology: options.topology,
    credentials: { adminPassword, viewerPassword: options.credentials.viewerPassword || undefined },
    watcher,
    bridgeUrls: options.bridgeUrls,
    dlqRead: 10_000,
    dlqShown: 500,
  });
  watcher.start();
  await app.listen({ host: options.listen.host, port: options.listen.port });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.listen.port;
  const host = options.listen.host.includes(":") ? `[${options.listen.host}]` : options.listen.host;
  return {
    url: `http://${host}:${port}/`,
    passwordFile,
    async stop() {
      await app.close();
      await watcher.stop();
    },
  };
}
