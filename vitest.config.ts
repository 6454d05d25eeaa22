import { defineConfig } from "vitest/config";
import { TEST_LANES } from "./test/support/test-stack";

export default defineConfig({
  test: {
    // One worker per lane of integration files (test/support/test-stack.ts); each worker's VITEST_POOL_ID is its lane.
    maxWorkers: TEST_LANES,
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
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Each lane's files run one after another on the lane's stack, so that fault tests disturb no other file.
        },
      },
    ],
  },
});
