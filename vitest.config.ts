import path from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// Every stack of the run (both lanes' and those the tests start) keeps the servers' jars and Toxiproxy in one
// cache, downloaded and built once (packages/stack reads it; workers and the tandem processes they start inherit it).
process.env.TANDEM_STACK_CACHE ??= path.resolve(".tandem/stack-cache");
// Their JVMs compile with C1 only: a site's servers then start with about half the CPU (15-17 s against 28-35 s),
// and the tests' loads are far from what C2's code would be needed for. Benchmarks keep the default.
process.env.TANDEM_STACK_JAVA_OPTIONS ??= "-XX:TieredStopAtLevel=1";

const isIntegrationFile = (name: string) => (spec: TestSpecification) =>
  spec.moduleId.endsWith(`/test/integration/${name}`);
const isSoak = isIntegrationFile("soak.test.ts");
const isDemo = isIntegrationFile("cli-demo.test.ts");

/**
 * Vitest's order (larger or longer files first), with the two files that start a stack of their own far
 * apart: they take turns (test/support/own-stack-turn.ts), and side by side one worker would wait minutes for
 * the other. The soak goes after the first quarter of the integration files, not first, where it would start
 * its stack while the second lane starts its own; the demo goes after the other integration files.
 */
class OwnStacksApart extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const others = sorted.filter((spec) => !isSoak(spec) && !isDemo(spec));
    const quarter = Math.ceil(others.filter((spec) => spec.project.name === "integration").length / 4);
    const integrationEnd = others.findLastIndex((spec) => spec.project.name === "integration") + 1;
    return [
      ...others.slice(0, quarter),
      ...sorted.filter(isSoak),
      ...others.slice(quarter, integrationEnd),
      ...sorted.filter(isDemo),
      ...others.slice(integrationEnd),
    ];
  }
}

export default defineConfig({
  test: {
    // One worker per lane of integration files; each worker's VITEST_POOL_ID is its lane. test/support/test-stack.ts
    // reads the same variable and refuses any count but 1 or 2.
    maxWorkers: Number(process.env.TANDEM_TEST_LANES ?? 2),
    sequence: { sequencer: OwnStacksApart },
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
