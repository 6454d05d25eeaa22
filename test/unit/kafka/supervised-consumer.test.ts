import type { ConsumerConfig, ConsumerRunConfig, EachBatchPayload, Kafka } from "kafkajs";
import { describe, expect, it, vi } from "vitest";
import { SupervisedConsumer, type SupervisedConsumerOptions } from "@tandem/kafka";

const CRASH = "consumer.crash";

/** Enough of a kafkajs consumer to watch what the supervisor does with it. */
class FakeConsumer {
  readonly events = { CRASH, GROUP_JOIN: "consumer.group_join" };
  topics: string[] = [];
  paused: string[] = [];
  disconnected = false;
  private readonly listeners = new Map<string, Array<(event: unknown) => void>>();

  constructor(
    readonly config: ConsumerConfig,
    private readonly refuseJoin: boolean,
  ) {}

  on(event: string, listener: (event: unknown) => void): () => void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return () =>
      this.listeners.set(
        event,
        (this.listeners.get(event) ?? []).filter((l) => l !== listener),
      );
  }

  crash(error: Error): void {
    for (const listener of this.listeners.get(CRASH) ?? []) listener({ payload: { error } });
  }

  connect = () => Promise.resolve();
  subscribe = ({ topics }: { topics: string[] }) => {
    this.topics = topics;
    return Promise.resolve();
  };
  // kafkajs reports a join refused as a crash during run(), not as an error of run().
  run = (_config: ConsumerRunConfig) => {
    if (this.refuseJoin) this.crash(new Error("join refused"));
    return Promise.resolve();
  };
  disconnect = () => {
    this.disconnected = true;
    return Promise.resolve();
  };
  pause = (topics: Array<{ topic: string }>) => {
    this.paused = topics.map((t) => t.topic);
  };
  resume = () => {
    this.paused = [];
  };
}

function setup(overrides: Partial<SupervisedConsumerOptions> = {}, refusals = 0) {
  const created: FakeConsumer[] = [];
  let wanted = ["calls.completed"];
  const kafka = {
    consumer: (config: ConsumerConfig) => {
      const consumer = new FakeConsumer(config, created.length < refusals);
      created.push(consumer);
      return consumer;
    },
  } as unknown as Kafka;
  const supervised = new SupervisedConsumer({
    kafka,
    consumer: { groupId: "g" },
    run: { eachBatch: () => Promise.resolve() },
    wantedTopics: () => Promise.resolve(wanted),
    backoff: { initialMs: 1, maxMs: 5, multiplier: 2, jitter: 0 },
    ...overrides,
  });
  return { supervised, created, want: (topics: string[]) => (wanted = topics) };
}

function batchPayload(state: { stale?: boolean; running?: boolean } = {}) {
  const heartbeat = vi.fn(() => Promise.resolve());
  const payload = {
    isRunning: () => state.running ?? true,
    isStale: () => state.stale ?? false,
    heartbeat,
  } as unknown as EachBatchPayload;
  return { payload, heartbeat };
}

describe("a supervised consumer", () => {
  it("never lets kafkajs restart its consumer", async () => {
    const { supervised, created } = setup({ retries: 8 });
    await supervised.start();
    const retry = created[0]!.config.retry!;
    expect(retry.retries).toBe(8);
    expect(await retry.restartOnFailure!(new Error("x"))).toBe(false);
    await supervised.stop();
  });

  it("fails its start when the consumer cannot join, leaving nothing connected", async () => {
    const { supervised, created } = setup({}, 1);
    await expect(supervised.start()).rejects.toThrow("join refused");
    expect(created[0]!.disconnected).toBe(true);
    expect(supervised.topics).toEqual([]);
    await supervised.start();
    expect(supervised.topics).toEqual(["calls.completed"]);
    await supervised.stop();
  });

  it("replaces a crashed consumer by a new member, paused as the one before", async () => {
    const crashed = vi.fn();
    const { supervised, created, want } = setup({ events: { crashed } });
    await supervised.start();
    supervised.pause();
    want(["calls.completed", "nyc.calls.completed"]);
    created[0]!.crash(new Error("coordinator gone"));
    await vi.waitFor(() => expect(supervised.topics).toHaveLength(2));
    expect(crashed).toHaveBeenCalledWith(new Error("coordinator gone"));
    expect(created).toHaveLength(2);
    expect(created[1]!.config.groupId).toBe("g");
    expect(created[1]!.paused).toEqual(["calls.completed", "nyc.calls.completed"]);
    await supervised.stop();
    expect(created[1]!.disconnected).toBe(true);
  });

  it("resubscribes when the wanted topics change, and only then", async () => {
    const resubscribing = vi.fn();
    const { supervised, created, want } = setup({ topicRefreshMs: 5, events: { resubscribing } });
    await supervised.start();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(created).toHaveLength(1);
    want(["calls.completed", "lon.calls.completed"]);
    await vi.waitFor(() => expect(supervised.topics).toEqual(["calls.completed", "lon.calls.completed"]));
    expect(created[0]!.disconnected).toBe(true);
    expect(resubscribing).toHaveBeenCalledOnce();
    await supervised.stop();
  });

  it("retries a batch, heartbeating while it waits, until it succeeds", async () => {
    const { supervised } = setup();
    const { payload, heartbeat } = batchPayload();
    const onRetry = vi.fn();
    let attempts = 0;
    const work = () => (++attempts < 3 ? Promise.reject(new Error("down")) : Promise.resolve("done"));
    expect(await supervised.retryBatch(payload, work, { onRetry })).toBe("done");
    expect(onRetry.mock.calls.map(([attempt]) => attempt as number)).toEqual([1, 2]);
    expect(heartbeat).toHaveBeenCalledTimes(2);
  });

  it("abandons a batch whose partition moved or whose consumer stopped", async () => {
    const { supervised } = setup();
    const failing = () => Promise.reject(new Error("down"));
    expect(await supervised.retryBatch(batchPayload({ stale: true }).payload, failing)).toBeUndefined();
    expect(await supervised.retryBatch(batchPayload({ running: false }).payload, failing)).toBeUndefined();
    await supervised.stop();
    expect(await supervised.retryBatch(batchPayload().payload, failing)).toBeUndefined();
  });
});
