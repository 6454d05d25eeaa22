import path from "node:path";
import type { TestProject } from "vitest/node";
import { LocalStack, wanLayoutOf } from "@tandem/stack";
import { dockerReachable, startContainerStack } from "./container-stack";
import { TEST_BASE_PORT, TEST_SITES } from "./test-stack";

/**
 * One stack of real servers for the whole integration run: containers where a Docker engine answers,
 * local processes otherwise. TANDEM_TEST_STACK=local|containers forces one.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const wanted = process.env.TANDEM_TEST_STACK;
  const useContainers = wanted === "containers" || (wanted !== "local" && (await dockerReachable()));
  if (useContainers) {
    const started = await startContainerStack(TEST_SITES);
    project.provide("tandemStack", {
      mode: "containers",
      endpoints: started.endpoints,
      containers: started.ids,
    });
    return started.stop;
  }
  const dataDir = process.env.TANDEM_TEST_DATA_DIR ?? path.resolve(".tandem/test-stack");
  const stack = new LocalStack({
    dataDir,
    sites: TEST_SITES,
    basePort: TEST_BASE_PORT,
    // Toxiproxy between the sites costs one small process; tests that reach a site through the WAN use
    // the endpoints' `reachedFrom`, the others the sites' own addresses.
    wan: wanLayoutOf(undefined, [], TEST_SITES),
    progress: (message) => process.stderr.write(`[stack] ${message}\n`),
  });
  const endpoints = await stack.up();
  project.provide("tandemStack", { mode: "local", dataDir, endpoints });
  return async () => {
    if (process.env.TANDEM_TEST_KEEP_STACK !== "1") await stack.down();
  };
}
