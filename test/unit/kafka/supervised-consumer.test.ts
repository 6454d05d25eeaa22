import type { ConsumerConfig, ConsumerRunConfig, EachBatchPayload, Kafka } from "kafkajs";
import { describe, expect, it, vi } from "vitest";
import { SupervisedConsumer, type SupervisedConsumerOptions } from "@tandem/kafka";

const CRASH = "consumer.crash";

/** Enough of a kafkajs consumer to watch what the supervisor does with it. */
class FakeConsumer {
  readonly events = { CRASH, GROUP_JOIN: "consumer.group_join", HEARTBEAT: "consumer.heartbeat" };
  topics: string[] = [];
  paused: string[] = [];
  runConfig: ConsumerRunConfig | undefined;
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

  heartbeatAnswered(): void {
    for (const listener of this.listeners.get(this.events.HEARTBEAT) ?? []) listener({ payload: {} });
  }

  joined(memberAssignment: Record<string, number[]> = { "calls.completed": [0] }): void {
    for (const listener of this.listeners.get(this.events.GROUP_JOIN) ?? [])
      listener({ payload: { memberAssignment } });
  }

  commitOffsets = vi.fn(() => Promise.resolve());

  connect = () => Promise.resolve();
  subscribe = ({ topics }: { topics: string[] }) => {
    this.topics = topics;
    return Promise.resolve();
  };
  // kafkajs reports a join refused as a crash during run(), not as an error of run().
  run = (config: ConsumerRunConfig) => {
    this.runConfig = config;
    if (this.refuseJoin) this.crash(new Error("join refused"));
    return Promise.resolve();
  };
  /** kafkajs's disconnect waits for the batch in flight: a test holds it here. */
  batchInFlight: Promise<void> = Promise.resolve();
  disconnect = async () => {
    await this.batchInFlight;
    this.disconnected = true;
  };
  pause = (topics: Array<{ topic: string }>) => {
    this.paused = [...new Set([...this.paused, ...topics.map((t) => t.topic)])];
  };
  resume = (topics: Array<{ topic: string }>) => {
    this.paused = this.paused.filter((paused) => !topics.some((t) => t.topic === paused));
  };
}

/** The offsets an admin client reports for partition 0 of the one topic: the group's commit and the log start. */
const offsets: {
  committed: string;
  logStart: string;
  lookups: number;
  /** Holds the log start look-up of one topic until `until` resolves. */
  held?: { topic: string; until: Promise<void> };
} = { committed: "-1", logStart: "0", lookups: 0 };

function setup(overrides: Partial<SupervisedConsumerOptions> = {}, refusals = 0) {
  const created: FakeConsumer[] = [];
  let wanted = ["calls.completed"];
  offsets.lookups = 0;
  const kafka = {
    consumer: (config: ConsumerConfig) => {
      const consumer = new FakeConsumer(config, created.length < refusals);
      created.push(consumer);
      return consumer;
    },
    admin: () => ({
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      fetchOffsets: ({ topics }: { topics: string[] }) => {
        offsets.lookups++;
        return Promise.resolve(
          topics.map((topic) => ({ topic, partitions: [{ partition: 0, offset: offsets.committed }] })),
        );
      },
      fetchTopicOffsets: async (topic: string) => {
        offsets.lookups++;
        if (offsets.held?.topic === topic) await offsets.held.until;
        return [{ partition: 0, low: offsets.logStart, high: "1000", offset: "1000" }];
      },
    }),
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
    supervised.pauseWhere(() => true);
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

  it("pauses the topics picked and resumes the others, in a replacing consumer too", async () => {
    const { supervised, created, want } = setup();
    want(["calls.completed", "users.changed"]);
    await supervised.start();
    supervised.pauseWhere((topic) => topic === "users.changed");
    expect(created[0]!.paused).toEqual(["users.changed"]);
    supervised.pauseWhere((topic) => topic === "calls.completed");
    expect(created[0]!.paused).toEqual(["calls.completed"]);
    want(["calls.completed", "users.changed", "nyc.calls.completed"]);
    created[0]!.crash(new Error("coordinator gone"));
    await vi.waitFor(() => expect(supervised.topics).toHaveLength(3));
    expect(created[1]!.paused).toEqual(["calls.completed"]);
    await supervised.stop();
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

  it("sends the group's heartbeat from a timer once due, not after a batch, and stops with its consumer", async () => {
    vi.useFakeTimers();
    try {
      const { supervised, created } = setup({ consumer: { groupId: "g", heartbeatInterval: 1000 } });
      await supervised.start();
      const consumer = created[0]!;
      const { payload, heartbeat } = batchPayload();
      await consumer.runConfig!.eachBatch!(payload);
      consumer.heartbeatAnswered();
      await vi.advanceTimersByTimeAsync(999);
      expect(heartbeat).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(10);
      expect(heartbeat).toHaveBeenCalledTimes(1);

      consumer.heartbeatAnswered();
      await supervised.stop();
      await vi.advanceTimersByTimeAsync(5000);
      expect(heartbeat).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("sends no heartbeat for a crashed consumer while its replacement waits", async () => {
    vi.useFakeTimers();
    try {
      const { supervised, created } = setup({ consumer: { groupId: "g", heartbeatInterval: 1000 } });
      await supervised.start();
      const first = created[0]!;
      const { payload, heartbeat } = batchPayload();
      await first.runConfig!.eachBatch!(payload);
      first.heartbeatAnswered();
      let finishBatch = () => {};
      first.batchInFlight = new Promise((resolve) => (finishBatch = resolve));
      first.crash(new Error("gone"));
      await vi.advanceTimersByTimeAsync(2000);
      expect(created).toHaveLength(1);
      expect(heartbeat).not.toHaveBeenCalled();
      finishBatch();
      await vi.advanceTimersByTimeAsync(10);
      expect(created).toHaveLength(2);
      await supervised.stop();
    } finally {
      vi.useRealTimers();
    }
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

  describe("commits offsets in the background", () => {
    const at = (partition: number, offset: string) => ({ topic: "calls.completed", partition, offset });

    it("one commit at a time, and a stop commits what is queued before the consumer leaves", async () => {
      const { supervised, created } = setup();
      await supervised.start();
      const consumer = created[0]!;
      let answer: () => void = () => {};
      const whileMember: boolean[] = [];
      consumer.commitOffsets.mockImplementation(() => {
        whileMember.push(!consumer.disconnected);
        return new Promise<void>((resolve) => (answer = resolve));
      });
      supervised.commitSoon([at(0, "5")]);
      supervised.commitSoon([at(0, "9")]);
      expect(consumer.commitOffsets.mock.calls).toEqual([[[at(0, "5")]]]);

      const stopped = supervised.stop();
      answer();
      await vi.waitFor(() => expect(consumer.commitOffsets).toHaveBeenCalledTimes(2));
      expect(consumer.commitOffsets.mock.calls[1]).toEqual([[at(0, "9")]]);
      answer();
      await stopped;
      expect(whileMember).toEqual([true, true]);
      expect(consumer.disconnected).toBe(true);
    });

    it("the batch in flight when a stop begins commits its offset before the consumer leaves", async () => {
      const { supervised, created } = setup({
        run: {
          eachBatch: () => {
            supervised.commitSoon([at(0, "42")]);
            return Promise.resolve();
          },
        },
      });
      await supervised.start();
      const consumer = created[0]!;
      let answer: () => void = () => {};
      consumer.commitOffsets.mockImplementation(() => new Promise<void>((resolve) => (answer = resolve)));
      let finishBatch: () => void = () => {};
      consumer.batchInFlight = new Promise((resolve) => (finishBatch = resolve));
      const stopped = supervised.stop();
      let batchDone = false;
      const batch = consumer.runConfig!.eachBatch!({} as EachBatchPayload).then(() => (batchDone = true));
      await new Promise((resolve) => setImmediate(resolve));
      expect(consumer.commitOffsets.mock.calls).toEqual([[[at(0, "42")]]]);
      expect(batchDone).toBe(false);
      answer();
      await batch;
      expect(consumer.disconnected).toBe(false);
      finishBatch();
      await stopped;
      expect(consumer.disconnected).toBe(true);
    });

    it("drops a queued offset of a partition the group gave to another member", async () => {
      const { supervised, created } = setup();
      await supervised.start();
      const consumer = created[0]!;
      let answer: () => void = () => {};
      consumer.commitOffsets.mockImplementation(() => new Promise<void>((resolve) => (answer = resolve)));
      supervised.commitSoon([at(0, "1")]);
      supervised.commitSoon([at(0, "2"), at(1, "7")]);
      consumer.joined({ "calls.completed": [0] });
      answer();
      await vi.waitFor(() => expect(consumer.commitOffsets).toHaveBeenCalledTimes(2));
      expect(consumer.commitOffsets.mock.calls[1]).toEqual([[at(0, "2")]]);
      answer();
      await supervised.stop();
    });
  });

  describe("finds records that retention deleted before the group read them", () => {
    const batch = (first: number, last: number) =>
      ({
        batch: {
          topic: "calls.completed",
          partition: 0,
          firstOffset: () => String(first),
          lastOffset: () => String(last),
        },
      }) as unknown as EachBatchPayload;

    async function started() {
      const lost: unknown[] = [];
      const handled: string[] = [];
      const { supervised, created } = setup({
        run: {
          eachBatch: ({ batch: b }) => {
            handled.push(`${b.firstOffset()}-${lost.length}`);
            return Promise.resolve();
          },
        },
        onLostRange: (range) => {
          lost.push(range);
          return Promise.resolve();
        },
      });
      await supervised.start();
      const consumer = created[0]!;
      return { supervised, consumer, lost, handled, eachBatch: consumer.runConfig!.eachBatch! };
    }

    it("reports the range below the log start before the batch is handled", async () => {
      Object.assign(offsets, { committed: "10", logStart: "50" });
      const { supervised, lost, handled, eachBatch } = await started();
      await eachBatch(batch(50, 60));
      expect(lost).toEqual([
        { topic: "calls.completed", partition: 0, firstOffset: "10", lastOffset: "49", count: 40 },
      ]);
      expect(handled).toEqual(["50-1"]);
      await supervised.stop();
    });

    it("takes a transaction marker or an aborted transaction for what it is", async () => {
      Object.assign(offsets, { committed: "10", logStart: "0" });
      const { supervised, lost, eachBatch } = await started();
      await eachBatch(batch(11, 20));
      await eachBatch(batch(22, 30));
      await eachBatch(batch(45, 50));
      expect(lost).toEqual([]);
      // The commits before the start, the commit and the log start at the join, the log start for the long
      // jump; none for a marker.
      expect(offsets.lookups).toBe(4);
      await supervised.stop();
    });

    it("finds a range deleted mid-stream, and learns the position again after a join", async () => {
      Object.assign(offsets, { committed: "10", logStart: "0" });
      const { supervised, consumer, lost, eachBatch } = await started();
      await eachBatch(batch(10, 25));
      offsets.logStart = "30";
      await eachBatch(batch(30, 40));
      expect(lost).toEqual([
        { topic: "calls.completed", partition: 0, firstOffset: "26", lastOffset: "29", count: 4 },
      ]);
      Object.assign(offsets, { committed: "35", logStart: "30" });
      consumer.joined();
      await eachBatch(batch(35, 40));
      expect(lost).toHaveLength(1);
      await supervised.stop();
    });

    it("remembers where the group had got to when kafkajs committed its reset before the first batch", async () => {
      Object.assign(offsets, { committed: "10", logStart: "50" });
      const { supervised, lost, eachBatch } = await started();
      offsets.committed = "-2";
      await eachBatch(batch(50, 60));
      expect(lost).toEqual([
        { topic: "calls.completed", partition: 0, firstOffset: "10", lastOffset: "49", count: 40 },
      ]);
      await supervised.stop();
    });

    it("reports a position below the log start at the join, before any batch, and only once", async () => {
      Object.assign(offsets, { committed: "10", logStart: "50" });
      const { supervised, consumer, lost, eachBatch } = await started();
      consumer.joined();
      await vi.waitFor(() => expect(lost).toHaveLength(1));
      expect(lost).toEqual([
        { topic: "calls.completed", partition: 0, firstOffset: "10", lastOffset: "49", count: 40 },
      ]);
      await eachBatch(batch(50, 60));
      consumer.joined();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(lost).toHaveLength(1);
      expect(consumer.commitOffsets).not.toHaveBeenCalled();
      await supervised.stop();
    });

    it("commits where a partition it never committed starts, so that records deleted later show as lost", async () => {
      Object.assign(offsets, { committed: "-1", logStart: "500" });
      const { supervised, consumer } = await started();
      consumer.joined();
      await vi.waitFor(() => expect(consumer.commitOffsets).toHaveBeenCalledOnce());
      expect(consumer.commitOffsets).toHaveBeenCalledWith([
        { topic: "calls.completed", partition: 0, offset: "500" },
      ]);
      await supervised.stop();
    });

    it("leaves the position of a partition the group committed or has handled a batch of", async () => {
      Object.assign(offsets, { committed: "10", logStart: "0" });
      const committedBefore = await started();
      committedBefore.consumer.joined();
      await committedBefore.supervised.stop();
      Object.assign(offsets, { committed: "-1", logStart: "0" });
      const handledBefore = await started();
      await handledBefore.eachBatch(batch(0, 5));
      handledBefore.consumer.joined();
      await handledBefore.supervised.stop();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(committedBefore.consumer.commitOffsets).not.toHaveBeenCalled();
      expect(handledBefore.consumer.commitOffsets).not.toHaveBeenCalled();
    });

    it("does not commit a log start over the offset of a batch handled while it looked up another topic's", async () => {
      let release = () => {};
      const until = new Promise<void>((resolve) => (release = resolve));
      Object.assign(offsets, { committed: "-1", logStart: "0", held: { topic: "users.changed", until } });
      const { supervised, consumer, eachBatch } = await started();
      consumer.joined({ "calls.completed": [0], "users.changed": [0] });
      await vi.waitFor(() => expect(offsets.lookups).toBe(4));
      await eachBatch(batch(0, 5));
      release();
      await vi.waitFor(() => expect(consumer.commitOffsets).toHaveBeenCalledOnce());
      expect(consumer.commitOffsets).toHaveBeenCalledWith([
        { topic: "users.changed", partition: 0, offset: "0" },
      ]);
      offsets.held = undefined;
      await supervised.stop();
    });

    it("reports nothing for a group that never committed: it starts where the log starts", async () => {
      Object.assign(offsets, { committed: "-1", logStart: "500" });
      const { supervised, lost, eachBatch } = await started();
      await eachBatch(batch(500, 510));
      expect(lost).toEqual([]);
      await supervised.stop();
    });
  });
});
