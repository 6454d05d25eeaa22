import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const REPO = path.resolve(import.meta.dirname, "../..");
// Go's own installer puts it here, and CI shells do not always have it on PATH.
const CANDIDATES = ["go", "/usr/local/go/bin/go"];

function goCommand(): string {
  for (const candidate of CANDIDATES) {
    if (spawnSync(candidate, ["version"], { encoding: "utf8" }).status === 0) return candidate;
  }
  throw new Error(
    `Go not found (tried ${CANDIDATES.join(", ")}): the Go recorder example needs Go 1.26 or newer ` +
      "(https://go.dev/doc/install); its modules then come from the Go module proxy",
  );
}

/**
 * The program of a Go module in the repository (`module`, e.g. `examples/go`), built into
 * `.tandem/bin/<name>`. `go build` fetches the modules go.sum pins on first use and rebuilds only what
 * changed, so a fresh machine needs only Go itself.
 */
export function goProgram(module: string, name: string): string {
  const output = path.join(REPO, ".tandem/bin", name);
  fs.mkdirSync(path.dirname(output), { recursive: true });
  // No VCS stamp: the build must not depend on the state of the checkout's git.
  const result = spawnSync(goCommand(), ["build", "-mod=readonly", "-buildvcs=false", "-o", output, "."], {
    cwd: path.join(REPO, module),
    encoding: "utf8",
    timeout: 600_000,
  });
  if (result.status !== 0) {
    throw new Error(`go build in ${module} failed: ${result.error?.message ?? result.stderr.trim()}`);
  }
  return output;
}
