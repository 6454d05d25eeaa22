import { describe, expect, it } from "vitest";
import { RateScheduler, runPaced, type Clock } from "../../../services/recorder/src/simulator";

/** A clock that only moves when the code under test sleeps. */
class FakeClock implements Clock {
  constructor(public t = 0) {}
  now() {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal) {
    if (!signal?.aborted) this.t += ms;
  }
}

describe("RateScheduler", () => {
  it("releases one slot per interval", () => {
    const scheduler = new RateScheduler(4, 1000);
    expect(scheduler.take(999)).toBe(false);
    expect(scheduler.take(1000)).toBe(true);
    expect(scheduler.take(1000)).toBe(false);
    expect(scheduler.nextDueMs()).toBe(1250);
    expect(scheduler.take(1249)).toBe(false);
    expect(scheduler.take(1250)).toBe(true);
    expect(scheduler.nextDueMs()).toBe(1500);
  });

  it("lets a short backlog catch up, drops and counts a longer one", () => {
    const scheduler = new RateScheduler(10, 0, 3);
    // At 1 s, 11 slots are due (0, 100, ..., 1000 ms); only 3 are kept.
    expect(scheduler.due(1000)).toBe(3);
    expect(scheduler.skipped).toBe(8);
    expect([scheduler.take(1000), scheduler.take(1000), scheduler.take(1000), scheduler.take(1000)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(scheduler.nextDueMs()).toBe(1100);
  });

  it("refuses a rate that is not positive", () => {
    expect(() => new RateScheduler(0, 0)).toThrow(RangeError);
  });
});

describe("runPaced", () => {
  it("starts tasks at the rate, up to the limit", async () => {
    const clock = new FakeClock(5000);
    const startedAt: number[] = [];
    const started = await runPaced({
      scheduler: new RateScheduler(5, clock.now()),
      clock,
      signal: new AbortController().signal,
      concurrency: 2,
      limit: 6,
      task: async () => {
        startedAt.push(clock.now());
      },
    });
    expect(started).toBe(6);
    expect(startedAt).toEqual([5000, 5200, 5400, 5600, 5800, 6000]);
  });

  it("never has more tasks in flight than the concurrency", async () => {
    const clock = new FakeClock();
    let inFlight = 0;
    let peak = 0;
    await runPaced({
      scheduler: new RateScheduler(1000, 0),
      clock,
      signal: new AbortController().signal,
      concurrency: 3,
      limit: 20,
      task: async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
      },
    });
    expect(peak).toBe(3);
  });

  it("stops starting tasks when aborted and waits for those in flight", async () => {
    const clock = new FakeClock();
    const stop = new AbortController();
    const finished: number[] = [];
    const started = await runPaced({
      scheduler: new RateScheduler(10, 0),
      clock,
      signal: stop.signal,
      concurrency: 4,
      task: async (index) => {
        if (index === 2) stop.abort();
        await new Promise((resolve) => setTimeout(resolve, 5));
        finished.push(index);
      },
    });
    expect(started).toBe(3);
    expect(finished.sort()).toEqual([0, 1, 2]);
  });

  it("stops on a failing task and reports its error after the others ended", async () => {
    const clock = new FakeClock();
    const finished: number[] = [];
    const run = runPaced({
      scheduler: new RateScheduler(1000, 0),
      clock,
      signal: new AbortController().signal,
      concurrency: 2,
      task: async (index) => {
        if (index === 1) throw new Error("boom");
        await new Promise((resolve) => setTimeout(resolve, 5));
        finished.push(index);
      },
    });
    await expect(run).rejects.toThrow("boom");
    expect(finished).toEqual([0]);
  });
});
