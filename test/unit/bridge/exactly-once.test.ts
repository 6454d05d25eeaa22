import type { Admin, Kafka, TopicMessages } from "kafkajs";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { ExactlyOnceDelivery } from "../../../services/bridge/src/link/exactly-once";

const logger = pino({ level: "silent" });
const at = { topic: "calls.completed", partition: 0 };

/**
 * A target as kafkajs shows it: `connect()` alone takes no transactional id (no fence); the first
 * `transaction()` does (InitProducerId); the position is the eos group's committed offset.
 */
function target(recorded: number) {
  const calls: string[] = [];
  let position = recorded;
  const producer = () => {
    let initialized = false;
    return {
      connect: async () => void calls.push("connect"),
      disconnect: async () => void calls.push("disconnect"),
      transaction: async () => {
        if (!initialized) calls.push("init-producer-id");
        initialized = true;
        let offset: number | undefined;
        let sent = 0;
        return {
          sendBatch: async ({ topicMessages }: { topicMessages: TopicMessages[] }) => {
            sent += topicMessages.length;
          },
          sendOffsets: async ({ topics }: { topics: { partitions: { offset: string }[] }[] }) => {
            offset = Number(topics[0]!.partitions[0]!.offset);
          },
          commit: async () => {
            calls.push(`commit ${sent} at ${offset}`);
            if (offset !== undefined) position = offset;
          },
          abort: async () => void calls.push("abort"),
        };
      },
    };
  };
  const admin = {
    fetchOffsets: async () => {
      calls.push(`read ${position}`);
      return [{ topic: at.topic, partitions: [{ partition: at.partition, offset: String(position) }] }];
    },
  };
  const delivery = new ExactlyOnceDelivery(
    { producer } as unknown as Kafka,
    admin as unknown as Admin,
    { transactionalId: () => "tx", eosGroupId: "eos" },
    logger,
    1,
  );
  return { delivery, calls, position: () => position };
}

const requests: TopicMessages[][] = [[{ topic: "nyc.calls.completed", messages: [{ value: "x" }] }]];

describe("ExactlyOnceDelivery", () => {
  it("a partition's writer fences the previous owner (InitProducerId) before it reads the target's position", async () => {
    const { delivery, calls } = target(40);
    const writer = await delivery.writer(at);
    expect(writer.resumeFrom).toBe(40n);
    expect(calls).toEqual(["connect", "init-producer-id", "abort", "read 40"]);
  });

  it("a batch the target recorded whole writes nothing and leaves the position where it is", async () => {
    const { delivery, calls, position } = target(40);
    const writer = await delivery.writer(at);
    calls.length = 0;
    await writer.deliver([], "30");
    await writer.deliver([], "40");
    expect(calls).toEqual([]);
    expect(position()).toBe(40);
    expect(writer.resumeFrom).toBe(40n);
    await writer.deliver(requests, "45");
    expect(calls).toEqual(["commit 1 at 45"]);
    expect(writer.resumeFrom).toBe(45n);
  });
});
