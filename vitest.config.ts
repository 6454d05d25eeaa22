import path from "node:path";
import { defineConfig } from "vitest/config";

// Every stack of the run (both lanes' and those the tests start) keeps the servers' jars and Toxiproxy in one
// cache, downloaded and built once (packages/stack reads it; workers and the tandem processes they start inherit it).
process.env.TANDEM_STACK_CACHE ??= path.resolve(".tandem/stack-cache");

export default defineConfig({
  test: {
    // One worker per lane of integration files; each worker's VITEST_POOL_ID is its lane. test/support/test-stack.ts
    // reads the same variable and refuses any count but 1 or 2.
    maxWorkers: Number(process.env.TANDEM_TEST_LANES ?? 2),
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // The property tests run thousands of cases; they share two cores with the integration stack.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          setupFiles: ["test/support/lane-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Each lane's files run one after another on the lane's stack, so that fault tests disturb no other file.
        },
      },
    ],
  },
});
