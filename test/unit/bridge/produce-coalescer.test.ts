import type { TopicMessages } from "kafkajs";
import { describe, expect, it } from "vitest";
import { ProduceCoalescer } from "../../../services/bridge/src/link/produce-coalescer";

const part = (topic: string, ...values: string[]): TopicMessages[] => [
  { topic, messages: values.map((value) => ({ value })) },
];
const topicsOf = (topicMessages: TopicMessages[]) => topicMessages.map((t) => t.topic);
const settle = () => new Promise((resolve) => setImmediate(resolve));
/** A write's outcome so far, watched from the start so that a refusal is never left unhandled. */
function watched(write: Promise<void>): () => string {
  let outcome = "pending";
  write.then(
    () => (outcome = "resolved"),
    (error: Error) => (outcome = `rejected ${error.message}`),
  );
  return () => outcome;
}

/** A target that answers each request when the test says, recording what each request carried. */
function target(refuses: (topics: string[]) => string | undefined = () => undefined) {
  const requests: string[][] = [];
  const answers: Array<() => void> = [];
  const send = (topicMessages: TopicMessages[]) => {
    const topics = topicsOf(topicMessages);
    requests.push(topics);
    return new Promise<void>((resolve, reject) => {
      answers.push(() => {
        const refusal = refuses(topics);
        if (refusal === undefined) resolve();
        else reject(new Error(refusal));
      });
    });
  };
  return {
    requests,
    send,
    /** Answers every request sent so far. */
    answer: async () => {
      await settle();
      for (const answer of answers.splice(0)) answer();
      await settle();
    },
  };
}

describe("ProduceCoalescer", () => {
  it("sends the writes of one turn in one request and resolves each once it is acknowledged", async () => {
    const broker = target();
    const coalescer = new ProduceCoalescer(broker.send);
    const writes = [coalescer.write(part("a", "1")), coalescer.write(part("b", "2", "3"))].map(watched);
    await settle();
    expect(broker.requests).toEqual([["a", "b"]]);
    expect(writes.map((w) => w())).toEqual(["pending", "pending"]);
    await broker.answer();
    expect(writes.map((w) => w())).toEqual(["resolved", "resolved"]);
  });

  it("keeps what arrives while a request is out for the next one, which carries it all", async () => {
    const broker = target();
    const coalescer = new ProduceCoalescer(broker.send);
    const first = watched(coalescer.write(part("a", "1")));
    await settle();
    const later = [coalescer.write(part("b", "2")), coalescer.write(part("c", "3"))].map(watched);
    await settle();
    expect(broker.requests).toEqual([["a"]]);
    await broker.answer();
    expect(first()).toBe("resolved");
    expect(later.map((w) => w())).toEqual(["pending", "pending"]);
    expect(broker.requests).toEqual([["a"], ["b", "c"]]);
    await broker.answer();
    expect(later.map((w) => w())).toEqual(["resolved", "resolved"]);
  });

  it("sends a refused merged request again part by part: only the refused part's write fails", async () => {
    const broker = target((topics) => (topics.includes("too-large") ? "MESSAGE_TOO_LARGE" : undefined));
    const coalescer = new ProduceCoalescer(broker.send);
    const writes = [
      coalescer.write(part("a", "1")),
      coalescer.write(part("too-large", "2")),
      coalescer.write(part("c", "3")),
    ].map(watched);
    await broker.answer();
    await broker.answer();
    expect(broker.requests).toEqual([["a", "too-large", "c"], ["a"], ["too-large"], ["c"]]);
    expect(writes.map((w) => w())).toEqual(["resolved", "rejected MESSAGE_TOO_LARGE", "resolved"]);
  });

  it("goes on sending after a failed request", async () => {
    let down = true;
    const broker = target(() => (down ? "target down" : undefined));
    const coalescer = new ProduceCoalescer(broker.send);
    const lost = watched(coalescer.write(part("a", "1")));
    await broker.answer();
    expect(lost()).toBe("rejected target down");
    down = false;
    const retried = watched(coalescer.write(part("a", "1")));
    await broker.answer();
    expect(retried()).toBe("resolved");
    expect(broker.requests).toEqual([["a"], ["a"]]);
  });
});
