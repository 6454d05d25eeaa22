import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { startDetached, waitUntil } from "../processes";
import { ToxiproxyClient } from "../toxiproxy";
import { TOXIPROXY_VERSION } from "../versions";

const TOXIPROXY_MODULE = "github.com/Shopify/toxiproxy/v2/cmd/server";

/** `go` on the PATH, else the official tarball's place. */
export function findGo(): string {
  for (const candidate of ["go", "/usr/local/go/bin/go"]) {
    if (spawnSync(candidate, ["version"], { encoding: "utf8" }).status === 0) return candidate;
  }
  throw new Error(
    "the WAN profile needs Go to build Toxiproxy (go install from the Go module proxy): install Go " +
      "('go' on the PATH or /usr/local/go/bin/go)",
  );
}

export function toxiproxyBinary(cache: string): string {
  return path.join(cache, `toxiproxy-${TOXIPROXY_VERSION}`, "server");
}

/** Toxiproxy's server built once into the cache directory, with GOBIN there. */
export function ensureToxiproxyBinary(cache: string, progress: (message: string) => void): string {
  const binary = toxiproxyBinary(cache);
  const bin = path.dirname(binary);
  if (fs.existsSync(binary)) return binary;
  const go = findGo();
  progress(`building toxiproxy ${TOXIPROXY_VERSION} with go install (once; cached in ${bin})`);
  fs.mkdirSync(bin, { recursive: true });
  const install = spawnSync(go, ["install", `${TOXIPROXY_MODULE}@${TOXIPROXY_VERSION}`], {
    encoding: "utf8",
    env: { ...process.env, GOBIN: bin },
  });
  if (install.status !== 0 || !fs.existsSync(binary)) {
    const output = `${install.stderr}${install.stdout}`.trim().split("\n").slice(-10).join("\n");
    throw new Error(
      `go install of toxiproxy ${TOXIPROXY_VERSION} failed (exit ${install.status}):\n${output}`,
    );
  }
  return binary;
}

/** The WAN's one Toxiproxy server: every pair's proxies live in it. */
export function toxiproxyServer(dir: string, binary: string, port: number) {
  const args = ["-host", "127.0.0.1", "-port", String(port)];
  const proc = {
    name: "wan toxiproxy",
    dir,
    marker: [binary, ...args].join(" "),
    stopSignal: "SIGTERM" as const,
  };
  const client = new ToxiproxyClient(`http://127.0.0.1:${port}`);
  return {
    proc,
    port,
    start() {
      // Its default level traces every connection: a WAN under load would fill the disk.
      startDetached(proc, binary, args, { ...process.env, LOG_LEVEL: "info" });
    },
    async waitReady(timeoutMs: number) {
      await waitUntil(
        proc,
        `answer on port ${port}`,
        async () => (await client.version()).length > 0,
        timeoutMs,
      );
    },
  };
}
