import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ensureTopics } from "@tandem/kafka";
import { readRanges, partitionOffsets, type ReadRecord } from "../../services/cli/src/replay/reader";
import { kafkaFor } from "../support/clients";
import { stack } from "../support/stack";

const test = await stack();
const sfo = test.site("sfo");

describe("reading offset ranges (inspect, replay) while the broker restarts", () => {
  it("reads every record of the ranges exactly once, in order, across a broker restart mid-read", async () => {
    const kafka = kafkaFor(sfo);
    const topic = `reader-faults-${randomUUID().slice(0, 8)}`;
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 2 }]);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // Large enough that one fetch cannot return it all: the read spans many batches.
    const value = Buffer.alloc(4096, 7);
    const total = 2000;
    for (let start = 0; start < total; start += 200) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 200 }, (_, i) => ({
          key: String(start + i),
          value,
          partition: (start + i) % 2,
        })),
      });
    }
    await producer.disconnect();
    const offsets = await partitionOffsets(admin, topic);
    await admin.disconnect();

    const read: ReadRecord[] = [];
    let restarted: Promise<void> | undefined;
    try {
      const unfinished = await readRanges(
        kafka,
        offsets.map((o) => ({ topic, partition: o.partition, start: o.low, end: o.high })),
        async (records) => {
          read.push(...records);
          // The first batch stops the broker under the reader; it comes back a few seconds later, while
          // the reader goes on fetching.
          if (restarted === undefined) {
            await test.stop("sfo", "kafka");
            restarted = new Promise((resolve) => setTimeout(resolve, 15_000)).then(() =>
              test.start("sfo", "kafka"),
            );
          }
        },
        { purpose: "reader-faults-test" },
      );
      expect(unfinished).toEqual([]);
    } finally {
      await restarted;
    }

    expect(restarted).toBeDefined();
    expect(read.length).toBe(total);
    for (const partition of [0, 1]) {
      const keys = read.filter((r) => r.partition === partition).map((r) => Number(r.key!.toString()));
      const expected = Array.from({ length: total / 2 }, (_, i) => 2 * i + partition);
      expect(keys).toEqual(expected);
    }
  });
});
