import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ScheduleGate } from "../../../services/bridge/src/link/schedule-gate";

const logger = pino({ level: "silent" });
let gate: ScheduleGate | undefined;
afterEach(() => gate?.stop());

describe("a link's schedule gate", () => {
  it("keeps a manual link closed until an operator's catch-up, and closes it again once caught up", async () => {
    let caughtUp = false;
    const changed = vi.fn();
    gate = new ScheduleGate({
      schedule: { kind: "manual" },
      checkIntervalMs: 1000,
      now: () => new Date(),
      logger,
      caughtUp: () => Promise.resolve(caughtUp),
      changed,
    });
    await gate.start();
    expect(gate.isClosed).toBe(true);
    expect(changed).toHaveBeenLastCalledWith(true);

    gate.requestCatchUp();
    await vi.waitFor(() => expect(gate!.isClosed).toBe(false));
    expect(gate.catchUpRequested).toBe(true);
    expect(changed).toHaveBeenLastCalledWith(false);

    caughtUp = true;
    await vi.waitFor(() => expect(gate!.isClosed).toBe(true), { timeout: 3000 });
    expect(gate.catchUpRequested).toBe(false);
  });

  it("leaves a continuous link open without asking whether it caught up", async () => {
    const caughtUp = vi.fn(() => Promise.resolve(true));
    const changed = vi.fn();
    gate = new ScheduleGate({
      schedule: { kind: "continuous" },
      checkIntervalMs: 1000,
      now: () => new Date(),
      logger,
      caughtUp,
      changed,
    });
    await gate.start();
    expect(gate.isClosed).toBe(false);
    expect(changed).not.toHaveBeenCalled();
    expect(caughtUp).not.toHaveBeenCalled();
  });
});
