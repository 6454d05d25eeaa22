import type { TestProject } from "vitest/node";
import { cliBundle } from "../../scripts/cli-bundle.mjs";
import { dockerReachable, startContainerStack } from "./container-stack";
import { laneStack } from "./lane-stack";
import { TEST_LANES, TEST_SITES, type ProvidedStack } from "./test-stack";

/**
 * One stack of real servers per lane of the integration run (see test-stack.ts): containers where a Docker
 * engine answers, local processes otherwise. TANDEM_TEST_STACK=local|containers forces one.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Built once here, before the workers that run it (test/support/processes.ts) look for it.
  await cliBundle();
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
  const stacks = lanes.map(laneStack);
  // The first lane's stack downloads the servers into the shared cache and starts; the other lanes' start with
  // their first file (lane-setup.ts), from that cache.
  stacks[0]!.prepare();
  await stacks[0]!.up();
  const provided: ProvidedStack[] = stacks.map((stack) => ({
    mode: "local",
    dataDir: stack.layout.dataDir,
    endpoints: stack.endpoints(),
  }));
  project.provide("tandemStacks", provided);
  return async () => {
    if (process.env.TANDEM_TEST_KEEP_STACK !== "1") await Promise.all(stacks.map((stack) => stack.down()));
  };
}
