import type { TestProject } from "vitest/node";
import { LocalStack, wanLayoutOf } from "@tandem/stack";
import { dockerReachable, startContainerStack } from "./container-stack";
import { TEST_LANES, TEST_SITES, laneBasePort, laneStackDir, type ProvidedStack } from "./test-stack";

/**
 * One stack of real servers per lane of the integration run (see test-stack.ts): containers where a Docker
 * engine answers, local processes otherwise. TANDEM_TEST_STACK=local|containers forces one.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const wanted = process.env.TANDEM_TEST_STACK;
  const useContainers = wanted === "containers" || (wanted !== "local" && (await dockerReachable()));
  const lanes = Array.from({ length: TEST_LANES }, (_, index) => index + 1);
  if (useContainers) {
    const started = await Promise.all(lanes.map(() => startContainerStack(TEST_SITES)));
    project.provide(
      "tandemStacks",
      started.map(({ endpoints, ids }) => ({ mode: "containers", endpoints, containers: ids })),
    );
    return async () => {
      await Promise.all(started.map((lane) => lane.stop()));
    };
  }
  const stacks = lanes.map(
    (lane) =>
      new LocalStack({
        dataDir: laneStackDir(lane),
        sites: TEST_SITES,
        basePort: laneBasePort(lane),
        // Toxiproxy between the sites costs one small process; tests that reach a site through the WAN use
        // the endpoints' `reachedFrom`, the others the sites' own addresses.
        wan: wanLayoutOf(undefined, [], TEST_SITES),
        progress: (message) => process.stderr.write(`[stack lane ${lane}] ${message}\n`),
      }),
  );
  // The first lane downloads the servers into Maven's local repository and builds Go's cache of Toxiproxy;
  // the others then copy from there while all start side by side.
  stacks[0]!.prepare();
  const provided: ProvidedStack[] = await Promise.all(
    stacks.map(async (stack) => ({
      mode: "local" as const,
      dataDir: stack.layout.dataDir,
      endpoints: await stack.up(),
    })),
  );
  project.provide("tandemStacks", provided);
  return async () => {
    if (process.env.TANDEM_TEST_KEEP_STACK !== "1") await Promise.all(stacks.map((stack) => stack.down()));
  };
}
