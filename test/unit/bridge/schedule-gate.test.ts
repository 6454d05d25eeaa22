import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ScheduleGate } from "../../../services/bridge/src/link/schedule-gate";
import { StreamGates } from "../../../services/bridge/src/link/stream-gates";

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

  it("opens a periodic link at each tick of the injected clock, and closes it once caught up", async () => {
    let now = new Date("2025-01-01T10:20:00Z");
    let caughtUp = false;
    const changed = vi.fn();
    gate = new ScheduleGate({
      schedule: { kind: "periodic", timeZone: "UTC", everyMs: 3_600_000 },
      checkIntervalMs: 50,
      now: () => now,
      logger,
      caughtUp: () => Promise.resolve(caughtUp),
      changed,
    });
    await gate.start();
    expect(gate.isClosed).toBe(true);
    expect(gate.nextChange).toEqual(new Date("2025-01-01T11:00:00Z"));

    now = new Date("2025-01-01T10:59:59Z");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(gate.isClosed).toBe(true);

    now = new Date("2025-01-01T11:00:00Z");
    await vi.waitFor(() => expect(gate!.isClosed).toBe(false));
    expect(gate.catchUpRequested).toBe(true);
    caughtUp = true;
    await vi.waitFor(() => expect(gate!.isClosed).toBe(true));
    expect(gate.nextChange).toEqual(new Date("2025-01-01T12:00:00Z"));

    // The next tick catches up again, also when the clock jumped past several ticks: once, not per tick.
    caughtUp = false;
    changed.mockClear();
    now = new Date("2025-01-01T14:30:00Z");
    await vi.waitFor(() => expect(gate!.isClosed).toBe(false));
    caughtUp = true;
    await vi.waitFor(() => expect(gate!.isClosed).toBe(true));
    expect(changed.mock.calls).toEqual([[false], [true]]);
  });
});

describe("a link's stream gates", () => {
  let gates: StreamGates | undefined;
  afterEach(() => gates?.stop());

  it("pause the topics of a stream outside its schedule and leave the others running", async () => {
    const caughtUp = new Map([["users", false]]);
    gates = new StreamGates({
      link: {
        from: "nyc",
        to: "lon",
        streams: ["calls", "users"],
        filters: { tenants: { deny: [] }, groups: { deny: [] } },
        schedule: { kind: "continuous" },
        schedules: { users: { kind: "manual" } },
        delivery: "at-least-once",
      },
      checkIntervalMs: 50,
      now: () => new Date(),
      logger,
      caughtUp: (stream) => Promise.resolve(caughtUp.get(stream) ?? true),
      changed: () => {},
    });
    await gates.start();
    expect(gates.isTopicClosed("calls.completed")).toBe(false);
    expect(gates.isTopicClosed("sfo.calls.completed")).toBe(false);
    expect(gates.isTopicClosed("users.changed")).toBe(true);
    expect(gates.isTopicClosed("sfo.users.changed")).toBe(true);
    expect(gates.isTopicClosed("tandem.heartbeats")).toBe(false);
    expect(gates.allClosed).toBe(false);
    expect(gates.status().map((s) => [s.stream, s.schedule, s.open])).toEqual([
      ["calls", "continuous", true],
      ["users", "manual", false],
    ]);

    gates.requestCatchUp();
    await vi.waitFor(() => expect(gates!.isTopicClosed("users.changed")).toBe(false));
    caughtUp.set("users", true);
    await vi.waitFor(() => expect(gates!.isTopicClosed("users.changed")).toBe(true));
    expect(gates.isTopicClosed("calls.completed")).toBe(false);
  });
});
