import { LocalStack, wanLayoutOf } from "@tandem/stack";
import { TEST_SITES, laneBasePort, laneStackDir } from "./test-stack";

/** The shared stack of a lane, as the global setup and a lane's first file start it. */
export function laneStack(lane: number): LocalStack {
  return new LocalStack({
    dataDir: laneStackDir(lane),
    sites: TEST_SITES,
    basePort: laneBasePort(lane),
    // Toxiproxy between the sites costs one small process; tests that reach a site through the WAN use
    // the endpoints' `reachedFrom`, the others the sites' own addresses.
    wan: wanLayoutOf(undefined, [], TEST_SITES),
    progress: (message) => process.stderr.write(`[stack lane ${lane}] ${message}\n`),
  });
}
