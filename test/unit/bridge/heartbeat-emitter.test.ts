import type { Producer } from "kafkajs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { HEARTBEATS_TOPIC } from "@tandem/events";
import { HeartbeatEmitter } from "../../../services/bridge/src/link/heartbeat-emitter";
import { testLogger } from "../../support/logger";

const INTERVAL_MS = 5_000;

/** An emitter started on a producer whose sends the test settles one by one, in the order they were made. */
function started() {
  const sends: Array<{ topic: string; resolve: () => void; reject: (error: Error) => void }> = [];
  const producer = {
    send: ({ topic }: { topic: string }) =>
      new Promise<void>((resolve, reject) => sends.push({ topic, resolve, reject })),
  } as unknown as Producer;
  const outcomes: string[] = [];
  const emitter = new HeartbeatEmitter(producer, "nyc->lon", testLogger("heartbeat-emitter-test"), {
    sent: () => outcomes.push("sent"),
    notSent: (error) => outcomes.push(`not sent: ${(error as Error).message}`),
  });
  emitter.start(INTERVAL_MS);
  return { emitter, sends, outcomes };
}

describe("the link's heartbeat emitter", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends a heartbeat to the source's heartbeats topic each interval and reports each one taken", async () => {
    const { emitter, sends, outcomes } = started();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(sends.map((s) => s.topic)).toEqual([HEARTBEATS_TOPIC]);
    sends[0]!.resolve();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    sends[1]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(outcomes).toEqual(["sent", "sent"]);
    emitter.stop();
  });

  it("reports a heartbeat the source refused", async () => {
    const { emitter, sends, outcomes } = started();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    sends[0]!.reject(new Error("Connection error: connect ECONNREFUSED"));
    await vi.advanceTimersByTimeAsync(0);
    expect(outcomes).toEqual(["not sent: Connection error: connect ECONNREFUSED"]);
    emitter.stop();
  });

  it("reports a heartbeat unanswered for a whole interval at once, without sending another beside it", async () => {
    const { emitter, sends, outcomes } = started();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(outcomes).toEqual([`not sent: the source has not taken a heartbeat for ${INTERVAL_MS} ms`]);
    expect(sends).toHaveLength(1);
    // Once it is answered, the next interval sends again.
    sends[0]!.resolve();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(sends).toHaveLength(2);
    expect(outcomes.at(-1)).toBe("sent");
    emitter.stop();
  });

  it("a heartbeat that fails after the link stopped is not reported", async () => {
    const { emitter, sends, outcomes } = started();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    emitter.stop();
    sends[0]!.reject(new Error("The producer is disconnected"));
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(outcomes).toEqual([]);
    expect(sends).toHaveLength(1);
  });
});
