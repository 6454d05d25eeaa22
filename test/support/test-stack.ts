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
export const TEST_BASE_PORT = Number(process.env.TANDEM_TEST_BASE_PORT ?? 25000);
/** Stacks of the tests that start their own beside the shared one: ports apart from it, moved with it. */
export const DEMO_BASE_PORT = TEST_BASE_PORT + 1000;
export const SECURE_BASE_PORT = TEST_BASE_PORT - 1000;

export const containerKey = (site: string, kind: ServerKind) => `${site}/${kind}`;

declare module "vitest" {
  export interface ProvidedContext {
    tandemStack: ProvidedStack;
  }
}
