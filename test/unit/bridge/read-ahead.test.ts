import { describe, expect, it } from "vitest";
import { ReadAhead } from "../../../services/bridge/src/link/read-ahead";

/** A delivery the test finishes when it wants, recording the order deliveries started in. */
function deliveries() {
  const started: string[] = [];
  const finishers = new Map<string, (delivered: boolean) => void>();
  const failers = new Map<string, (error: Error) => void>();
  const deliver = (name: string) => () => {
    started.push(name);
    return new Promise<boolean>((resolve, reject) => {
      finishers.set(name, resolve);
      failers.set(name, reject);
    });
  };
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    started,
    deliver,
    finish: async (name: string, delivered = true) => {
      await settle();
      finishers.get(name)!(delivered);
      await settle();
    },
    fail: async (name: string, error: Error) => {
      await settle();
      failers.get(name)!(error);
      await settle();
    },
    settle,
  };
}

const state = (promise: Promise<unknown>) =>
  Promise.race([
    promise.then(
      (value) => `resolved ${String(value)}`,
      (error: Error) => `rejected ${error.message}`,
    ),
    new Promise((resolve) => setImmediate(() => resolve("pending"))),
  ]);

describe("ReadAhead", () => {
  it("delivers a partition's batches in order, one at a time, and lets the next fetch start once the one before is delivered", async () => {
    const readAhead = new ReadAhead();
    const d = deliveries();
    const first = readAhead.queue("p0", d.deliver("a1"));
    expect(await state(first)).toBe("resolved true");
    const second = readAhead.queue("p0", d.deliver("a2"));
    const otherPartition = readAhead.queue("p1", d.deliver("b1"));
    await d.settle();
    expect(d.started).toEqual(["a1", "b1"]);
    expect(await state(second)).toBe("pending");
    expect(await state(otherPartition)).toBe("resolved true");

    await d.finish("a1");
    expect(d.started).toEqual(["a1", "b1", "a2"]);
    expect(await state(second)).toBe("resolved true");
  });

  it("abandons every later batch of a partition after one that was abandoned, until the next assignment", async () => {
    const readAhead = new ReadAhead();
    const d = deliveries();
    void readAhead.queue("p0", d.deliver("1"));
    const next = readAhead.queue("p0", d.deliver("2"));
    await d.finish("1", false);
    expect(await state(next)).toBe("resolved false");
    const later = readAhead.queue("p0", d.deliver("3"));
    expect(await state(later)).toBe("resolved false");
    expect(d.started).toEqual(["1"]);

    readAhead.restart();
    const afterRebalance = readAhead.queue("p0", d.deliver("4"));
    expect(await state(afterRebalance)).toBe("resolved true");
    await d.settle();
    expect(d.started).toEqual(["1", "4"]);
  });

  it("passes a failed delivery's error to the next batch of the partition, which is never delivered", async () => {
    const readAhead = new ReadAhead();
    const d = deliveries();
    void readAhead.queue("p0", d.deliver("1"));
    await d.fail("1", new Error("bug"));
    expect(await state(readAhead.queue("p0", d.deliver("2")))).toBe("rejected bug");
    expect(d.started).toEqual(["1"]);
  });

  it("drain waits for every batch queued, delivered or not", async () => {
    const readAhead = new ReadAhead();
    const d = deliveries();
    void readAhead.queue("p0", d.deliver("1"));
    void readAhead.queue("p0", d.deliver("2"));
    void readAhead.queue("p1", d.deliver("3"));
    const drained = readAhead.drain();
    await d.finish("1");
    await d.finish("3");
    expect(await state(drained)).toBe("pending");
    await d.fail("2", new Error("gone"));
    expect(await state(drained)).toBe("resolved undefined");
  });
});
