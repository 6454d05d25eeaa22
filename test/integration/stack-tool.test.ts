import net from "node:net";
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { expect, it } from "vitest";
import { LocalStack } from "@tandem/stack";
import { kafkaFor } from "../support/clients";
import { providedStack, stack } from "../support/stack";
import { until } from "../support/wait";

const provided = providedStack();
const local = provided.mode === "local";

it.runIf(local)("refuses to start when a port is taken by another process, naming the port", async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(45003, "127.0.0.1", resolve));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-port-test-"));
  try {
    const other = new LocalStack({ dataDir, sites: ["aaa"], basePort: 45000 });
    await expect(other.up()).rejects.toThrow(/port 45003 \(aaa postgres\) is already in use/);
  } finally {
    blocker.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

it.runIf(local)(
  "a second up after a crashed server recovers it and leaves the others as they were",
  async () => {
    if (provided.mode !== "local") return;
    const test = await stack();
    const localStack = new LocalStack({ dataDir: provided.dataDir });
    const before = await localStack.status();
    await test.kill("lon", "s3");
    await new Promise((resolve) => setTimeout(resolve, 500));
    const crashed = (await localStack.status()).find((s) => s.site === "lon" && s.kind === "s3");
    expect(crashed?.pid).toBeUndefined();
    await localStack.up();
    const after = await localStack.status();
    expect(after.every((s) => s.pid !== undefined && s.answering)).toBe(true);
    const pidOf = (rows: typeof after, site: string, kind: string) =>
      rows.find((r) => r.site === site && r.kind === kind)?.pid;
    expect(pidOf(after, "lon", "s3")).not.toBe(pidOf(before, "lon", "s3"));
    expect(pidOf(after, "nyc", "kafka")).toBe(pidOf(before, "nyc", "kafka"));
  },
);

it.runIf(local)(
  "a restarted broker counts as ready only once it serves its topics again: a client that never retries uses them at once",
  async () => {
    const test = await stack();
    const sfo = test.site("sfo");
    const admin = kafkaFor(sfo).admin();
    await admin.connect();
    const topics = Array.from(
      { length: 150 },
      (_, i) => `restart-ready-${crypto.randomUUID().slice(0, 8)}-${i}`,
    );
    try {
      await admin.createTopics({
        topics: topics.map((topic) => ({ topic, numPartitions: 4 })),
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
    // Killed, not stopped: the broker recovers its logs on the way up.
    await test.kill("sfo", "kafka");
    await until("sfo's broker to be gone", async () => {
      const rows = await new LocalStack({ dataDir: (provided as { dataDir: string }).dataDir }).status();
      return rows.find((r) => r.site === "sfo" && r.kind === "kafka")?.pid === undefined;
    });
    await test.start("sfo", "kafka");

    const impatient = new Kafka({
      clientId: "restart-ready",
      brokers: sfo.kafka.brokers,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
    const check = impatient.admin();
    const producer = impatient.producer();
    await check.connect();
    await producer.connect();
    try {
      const metadata = await check.fetchTopicMetadata({ topics });
      expect(metadata.topics.flatMap((t) => t.partitions).every((p) => p.leader >= 0)).toBe(true);
      await producer.send({ topic: topics.at(-1)!, acks: -1, messages: [{ value: "after the restart" }] });
    } finally {
      await producer.disconnect();
      await check.disconnect();
      const cleanup = kafkaFor(sfo).admin();
      await cleanup.connect();
      await cleanup.deleteTopics({ topics });
      await cleanup.disconnect();
    }
  },
  180_000,
);
