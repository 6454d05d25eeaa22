import path from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_BASE_PORT, DEFAULT_SITES } from "@tandem/stack";

/**
 * Every default of the tandem command, in one documented place (README "Configuration").
 * Each can be overridden by the flag or the environment variable named beside it.
 */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export const defaults = {
  /** --data-dir, TANDEM_DATA_DIR: state and download cache of the local stack. */
  dataDir: process.env.TANDEM_DATA_DIR ?? path.join(REPO_ROOT, ".tandem"),
  /** --base-port, TANDEM_BASE_PORT: first port of the local stack; each site takes ten. */
  basePort: Number(process.env.TANDEM_BASE_PORT ?? DEFAULT_BASE_PORT),
  /** --sites: the sites of the local stack. */
  sites: DEFAULT_SITES,
  /** `tandem demo` flags of the same names. */
  demo: {
    sites: DEFAULT_SITES,
    durationSeconds: 60,
    callsPerSecond: 2,
    userChangesPerSecond: 0.5,
    /** Calls last 5 s to this; their audio is G.711 at 8 kB/s. */
    maxCallSeconds: 30,
    settleTimeoutSeconds: 180,
  },
  /** `tandem inspect --last`, and its ceiling. */
  inspect: { last: 10, maxLast: 10_000 },
  /** `tandem replay`: the streams read without --topic, and audio copies in flight with --store-dir. */
  replay: { topics: "calls,users", audioConcurrency: 4 },
  /** `tandem repair --grace` (a call seen this recently is left to the bridges) and `--wait` (seconds). */
  repair: { graceSeconds: 30, waitSeconds: 300 },
  /** `tandem console --listen`, `--interval` and `--history` (seconds). */
  console: { listen: "127.0.0.1:9400", intervalSeconds: 5, historySeconds: 24 * 3600 },
  /** `tandem import --concurrency`: calls uploaded and published at once (bench/import.ts). */
  import: { concurrency: 8 },
};
