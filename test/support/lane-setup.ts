import { laneStack } from "./lane-stack";
import { providedStack } from "./stack";
import { testLane } from "./test-stack";

// The global setup starts the first lane's stack; another lane's starts with the first file that runs in it,
// so that a run of a single file starts one. Later files find it running (`up` leaves a running stack as it is).
if (providedStack().mode === "local" && testLane() > 1) await laneStack(testLane()).up();
