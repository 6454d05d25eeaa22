import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { CALLS_TOPIC, EventCodec, USERS_TOPIC, type CallCompleted, type UserChanged } from "@tandem/events";
import { formatProgress, recorderPopulation, runRecorder, type Stats } from "../../services/recorder/src";
import { readTopic, storeFor } from "../support/clients";
import { testLogger } from "../support/logger";
import { stack } from "../support/stack";

// sfo is the stack's spare site: the simulator's traffic does not disturb tests at nyc and lon.
const testStack = await stack();
const site = testStack.site("sfo");
const codec = new EventCodec({ host: site.registry.url });

/** The events of one run, told apart from other traffic at sfo by the run's own tenants. */
async function eventsOfRun<T extends CallCompleted | UserChanged>(topic: string, seed: string): Promise<T[]> {
  const tenants = new Set(recorderPopulation(seed).tenants.map((t) => t.id));
  const events: T[] = [];
  for (const message of await readTopic(site, topic, { idleMs: 2500 })) {
    const decoded = await codec.decode(message.value, { topic, partition: 0, offset: message.offset });
    if (tenants.has(decoded.event.tenantId)) events.push(decoded.event as T);
  }
  return events;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("recorder simulator against the real stack", () => {
  it("publishes the calls, with their audio in the site's store, and the user changes", async () => {
    const seed = `it-${randomUUID()}`;
    const progress: Stats[] = [];
    const run = runRecorder({
      site,
      seed,
      callsPerSecond: 20,
      userChangesPerSecond: 10,
      maxCalls: 10,
      maxUserChanges: 5,
      minCallSeconds: 1,
      medianCallSeconds: 4,
      maxCallSeconds: 8,
      logger: testLogger("recorder-simulator"),
      onProgress: (stats) => progress.push(stats),
      progressIntervalMs: 200,
    });
    const stats = await run.done;
    expect(stats).toMatchObject({
      site: "sfo",
      calls: 10,
      userChanges: 5,
      events: 15,
      failed: 0,
      finished: true,
    });
    expect(progress.at(-1)).toEqual(stats);
    expect(formatProgress(stats)).toContain("calls 10");

    const calls = await eventsOfRun<CallCompleted>(CALLS_TOPIC, seed);
    expect(new Set(calls.map((c) => c.callId)).size).toBe(10);
    expect(calls).toHaveLength(10);
    expect(stats.audioBytes).toBe(calls.reduce((sum, c) => sum + (c.audio?.sizeBytes ?? 0), 0));

    const store = storeFor(site);
    try {
      for (const call of calls) {
        expect(call.originSite).toBe("sfo");
        expect(call.audio).toMatchObject({
          contentType: "audio/wav",
          codec: "pcm_mulaw",
          sampleRateHz: 8000,
        });
        const audio = call.audio!;
        expect(await store.head(audio.objectKey)).toEqual({
          key: audio.objectKey,
          sizeBytes: audio.sizeBytes,
          sha256: audio.sha256,
        });
        // Reading with verification fails if the bytes do not hash to the event's sha256.
        const file = await readAll((await store.get(audio.objectKey, { verifySha256: audio.sha256 })).body);
        expect(file.length).toBe(audio.sizeBytes);
        expect(file.toString("ascii", 0, 4)).toBe("RIFF");
        expect(file.toString("ascii", 8, 12)).toBe("WAVE");
        // mu-law at 8 kHz: 8 bytes per ms of call, after a 58-byte header (fmt of 18 bytes, fact).
        expect(file.readUInt32LE(54)).toBe(call.durationMs * 8);
        expect(file.length).toBe(58 + call.durationMs * 8);
      }
    } finally {
      store.close();
    }

    const users = await eventsOfRun<UserChanged>(USERS_TOPIC, seed);
    expect(users).toHaveLength(5);
    expect(users.every((u) => u.originSite === "sfo")).toBe(true);
    // The first change of a run provisions a user of its population with every field.
    expect(users[0]).toMatchObject({ operation: "UPSERT" });
    expect([...users[0]!.changedFields].sort()).toEqual(["active", "email", "extensions", "name", "role"]);
  });

  it("stops cleanly mid-run: the calls in flight finish, nothing is published afterwards", async () => {
    const seed = `it-stop-${randomUUID()}`;
    let latest: Stats | undefined;
    const run = runRecorder({
      site,
      seed,
      callsPerSecond: 5,
      userChangesPerSecond: 2,
      minCallSeconds: 5,
      maxCallSeconds: 30,
      logger: testLogger("recorder-simulator"),
      onProgress: (stats) => (latest = stats),
      progressIntervalMs: 100,
    });
    const deadline = Date.now() + 60_000;
    while ((latest?.calls ?? 0) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(latest?.calls).toBeGreaterThanOrEqual(3);

    const stopping = Date.now();
    await run.stop();
    expect(Date.now() - stopping).toBeLessThan(20_000);
    const stats = await run.done;
    expect(stats.finished).toBe(true);
    expect(stats.failed).toBe(0);

    const calls = await eventsOfRun<CallCompleted>(CALLS_TOPIC, seed);
    const users = await eventsOfRun<UserChanged>(USERS_TOPIC, seed);
    expect(calls).toHaveLength(stats.calls);
    expect(users).toHaveLength(stats.userChanges);
  });

  it("waits for a schema registry that is down at start, then publishes", async () => {
    const seed = `it-registry-${randomUUID()}`;
    await testStack.stop("sfo", "registry");
    let run: ReturnType<typeof runRecorder> | undefined;
    try {
      let settled = false;
      run = runRecorder({
        site,
        seed,
        callsPerSecond: 10,
        userChangesPerSecond: 0,
        maxCalls: 3,
        minCallSeconds: 1,
        maxCallSeconds: 2,
        logger: testLogger("recorder-simulator"),
      });
      void run.done.finally(() => (settled = true)).catch(() => {});
      await new Promise((r) => setTimeout(r, 5_000));
      expect(settled).toBe(false);
    } finally {
      await testStack.start("sfo", "registry");
    }
    const stats = await run.done;
    expect(stats).toMatchObject({ calls: 3, failed: 0, finished: true });
    expect(await eventsOfRun<CallCompleted>(CALLS_TOPIC, seed)).toHaveLength(3);
  });
});
