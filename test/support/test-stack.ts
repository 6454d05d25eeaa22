import path from "node:path";
import type { ServerKind, SiteEndpoints, StackEndpoints } from "@tandem/stack";

/**
 * What the global setup hands to test files: the endpoints, and how to reach the servers again to stop,
 * crash or restart one of them (fault tests).
 */
export type ProvidedStack =
  | { mode: "local"; dataDir: string; endpoints: StackEndpoints }
  | { mode: "containers"; endpoints: StackEndpoints; containers: Record<string, string> };

export interface TestStack {
  endpoints: StackEndpoints;
  sites: SiteEndpoints[];
  site(id: string): SiteEndpoints;
  /** Graceful stop of one server. */
  stop(site: string, kind: ServerKind): Promise<void>;
  /** SIGKILL of one server. */
  kill(site: string, kind: ServerKind): Promise<void>;
  /** Start a stopped server and wait until it answers. */
  start(site: string, kind: ServerKind): Promise<void>;
}

export const TEST_SITES = ["nyc", "lon", "sfo"];

/**
 * Integration files run in lanes side by side, one per vitest worker (VITEST_POOL_ID is 1..lanes), each lane
 * with a shared stack of its own and its own ports and data directories for the stacks a file starts itself:
 * two files running at once never share a server. TANDEM_TEST_LANES=1 runs the files one after another.
 */
export const TEST_LANES = lanesWanted(process.env.TANDEM_TEST_LANES);
const FIRST_BASE_PORT = Number(process.env.TANDEM_TEST_BASE_PORT ?? 25000);
/** Every port block of a lane sits this far from the previous lane's, all of them below the ephemeral range. */
const LANE_PORT_STEP = 500;

function lanesWanted(value: string | undefined): number {
  const lanes = Number(value ?? 2);
  if (lanes !== 1 && lanes !== 2) throw new Error(`TANDEM_TEST_LANES must be 1 or 2, not ${value}`);
  return lanes;
}

/** The lane of this test file's worker; 1 outside a worker (the global setup). */
export function testLane(): number {
  const lane = Number(process.env.VITEST_POOL_ID ?? 1);
  if (!Number.isInteger(lane) || lane < 1 || lane > TEST_LANES)
    throw new Error(
      `vitest worker ${process.env.VITEST_POOL_ID} has no lane: maxWorkers must be ${TEST_LANES}`,
    );
  return lane;
}

export const laneBasePort = (lane: number) => FIRST_BASE_PORT + (lane - 1) * LANE_PORT_STEP;

/** A lane's directory under `.tandem/` (`name` for the first lane, `name-lane2` for the second). */
export const laneDataDir = (name: string, lane: number = testLane()) =>
  path.resolve(".tandem", lane === 1 ? name : `${name}-lane${lane}`);

/** The shared stack's data directory of a lane. */
export function laneStackDir(lane: number): string {
  const first = process.env.TANDEM_TEST_DATA_DIR;
  if (first === undefined) return laneDataDir("test-stack", lane);
  return lane === 1 ? path.resolve(first) : `${path.resolve(first)}-lane${lane}`;
}

export const TEST_BASE_PORT = laneBasePort(testLane());
/** Stacks of the tests that start their own beside the shared one: ports apart from it, moved with it. */
export const DEMO_BASE_PORT = TEST_BASE_PORT + 1000;
export const SECURE_BASE_PORT = TEST_BASE_PORT - 1000;
export const SOAK_BASE_PORT = TEST_BASE_PORT - 2000;
export const JOIN_BASE_PORT = TEST_BASE_PORT - 4000;

export const containerKey = (site: string, kind: ServerKind) => `${site}/${kind}`;

declare module "vitest" {
  export interface ProvidedContext {
    /** The shared stack of each lane, the first lane's first. */
    tandemStacks: ProvidedStack[];
  }
}
