import type { TopicPartitionOffsetAndMetadata } from "kafkajs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BackgroundCommits } from "../../../packages/kafka/src/background-commits";

/** A commit call the test answers when it wants: what a broker a round trip away does. */
class Broker {
  readonly calls: TopicPartitionOffsetAndMetadata[][] = [];
  private answers: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  readonly commit = (offsets: TopicPartitionOffsetAndMetadata[]) => {
    this.calls.push(offsets);
    return new Promise<void>((resolve, reject) => this.answers.push({ resolve, reject }));
  };

  async acknowledge(): Promise<void> {
    this.answers.shift()!.resolve();
    await settle();
  }

  async refuse(): Promise<void> {
    this.answers.shift()!.reject(new Error("not a member of the group"));
    await settle();
  }

  get waiting(): number {
    return this.answers.length;
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const at = (topic: string, partition: number, offset: string) => ({ topic, partition, offset });

afterEach(() => {
  vi.useRealTimers();
});

describe("BackgroundCommits", () => {
  it("keeps one commit in flight and sends each partition's latest offset in the next", async () => {
    const broker = new Broker();
    const commits = new BackgroundCommits(broker.commit, { retryAfterMs: 1000 });
    commits.note([at("t", 0, "10")]);
    commits.note([at("t", 0, "20"), at("t", 1, "5")]);
    commits.note([at("t", 0, "30")]);
    expect(broker.calls).toEqual([[at("t", 0, "10")]]);

    await broker.acknowledge();
    expect(broker.calls[1]).toEqual([at("t", 0, "30"), at("t", 1, "5")]);
    await broker.acknowledge();
    expect(broker.calls).toHaveLength(2);
    expect(commits.size).toBe(0);
  });

  it("tries a failed commit again after the delay, unless a newer offset replaced it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const broker = new Broker();
    const failures: unknown[] = [];
    const commits = new BackgroundCommits(broker.commit, {
      retryAfterMs: 1000,
      failed: (error) => failures.push(error),
    });
    commits.note([at("t", 0, "10"), at("t", 1, "7")]);
    await broker.refuse();
    expect(failures).toHaveLength(1);
    expect(broker.waiting).toBe(0);

    vi.advanceTimersByTime(999);
    expect(broker.calls).toHaveLength(1);
    commits.note([at("t", 0, "15")]);
    expect(broker.calls[1]).toEqual([at("t", 0, "15"), at("t", 1, "7")]);
    await broker.acknowledge();
    vi.advanceTimersByTime(5000);
    expect(broker.calls).toHaveLength(2);
  });

  it("drops the offsets of partitions no longer owned, so a late commit never sets a new owner back", async () => {
    const broker = new Broker();
    const commits = new BackgroundCommits(broker.commit, { retryAfterMs: 1000 });
    commits.note([at("t", 0, "1")]);
    commits.note([at("t", 0, "2"), at("t", 1, "9"), at("u", 2, "4")]);
    commits.retain((topic, partition) => topic === "t" && partition === 0);
    await broker.acknowledge();
    expect(broker.calls[1]).toEqual([at("t", 0, "2")]);
  });

  it("flush waits for the commit in flight and commits what is queued once, even when it fails", async () => {
    const broker = new Broker();
    const commits = new BackgroundCommits(broker.commit, { retryAfterMs: 1000 });
    commits.note([at("t", 0, "1")]);
    commits.note([at("t", 0, "2")]);
    let flushed = false;
    const flushing = commits.flush().then(() => (flushed = true));
    await settle();
    expect(flushed).toBe(false);

    await broker.acknowledge();
    expect(broker.calls[1]).toEqual([at("t", 0, "2")]);
    expect(flushed).toBe(false);
    await broker.refuse();
    await flushing;
    expect(flushed).toBe(true);
    expect(broker.calls).toHaveLength(2);
    // The refused offset stays queued for a later consumer of the group, which retains what it owns.
    expect(commits.size).toBe(1);
  });

  it("flush of nothing queued resolves at once", async () => {
    const broker = new Broker();
    const commits = new BackgroundCommits(broker.commit, { retryAfterMs: 1000 });
    await commits.flush();
    expect(broker.calls).toHaveLength(0);
  });
});
