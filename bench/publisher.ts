/**
 * Events per second the recorder publisher sustains against a local stack (one site, real servers):
 *   (a) UserChanged events of about 1 KB of metadata, no audio (no object store traffic at all);
 *   (b) CallCompleted events with 1 MB of audio each, uploaded to the site's S3 store first.
 *
 *   npx tsx bench/publisher.ts [--seconds 20] [--concurrency 32] [--audio-concurrency 8] [--keep]
 */
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { USERS_TOPIC, type UserChanged } from "@tandem/events";
import { createLogger } from "@tandem/runtime";
import {
  CallGenerator,
  Random,
  WAV_CONTENT_TYPE,
  createPopulation,
  formatBytes,
  wavStream,
  type AudioFormat,
  type UserEdit,
} from "../services/recorder/src";
import { benchPublisher, benchSite, printSideBySide } from "./one-site";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "20" },
    concurrency: { type: "string", default: "32" },
    "audio-concurrency": { type: "string", default: "8" },
    keep: { type: "boolean", default: false },
  },
});
const seconds = Number(args.seconds);
const concurrency = Number(args.concurrency);
const audioConcurrency = Number(args["audio-concurrency"]);

interface Result {
  events: number;
  bytes: number;
  elapsedMs: number;
  latenciesMs: number[];
}

/**
 * Keeps `workers` publishes in flight for `seconds` (after a short warm-up that registers the schema
 * and opens the connections), printing progress every second.
 */
async function measure(label: string, workers: number, publishOne: () => Promise<number>): Promise<Result> {
  for (let i = 0; i < workers; i++) await publishOne();
  const result: Result = { events: 0, bytes: 0, elapsedMs: 0, latenciesMs: [] };
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const ticker = setInterval(() => {
    const elapsed = (performance.now() - start) / 1000;
    process.stderr.write(
      `\r${label}: ${elapsed.toFixed(0)}/${seconds} s  ${result.events} events  ` +
        `${(result.events / elapsed).toFixed(1)}/s  ${formatBytes(result.bytes / elapsed)}/s   `,
    );
  }, 1000);
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        const began = performance.now();
        const bytes = await publishOne();
        result.bytes += bytes;
        result.latenciesMs.push(performance.now() - began);
        result.events++;
      }
    }),
  );
  clearInterval(ticker);
  result.elapsedMs = performance.now() - start;
  process.stderr.write("\n");
  return result;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

async function main(): Promise<void> {
  const logger = createLogger("bench");
  logger.level = "warn";
  const { site, stack } = await benchSite();

  const { publisher, codec, close } = await benchPublisher(site, logger);

  try {
    const random = new Random("bench");
    const population = createPopulation(random.fork("population"));
    const tenant = population.tenants[0]!;
    const group = tenant.groups[0]!;
    // ~1 KB of metadata: a new user with every field and a long list of extensions.
    const userEdit = (): UserEdit => ({
      userId: random.uuid(),
      tenantId: tenant.id,
      groupId: group.id,
      operation: "UPSERT",
      changes: {
        name: "Benchmark User",
        email: "benchmark.user@example.com",
        extensions: Array.from({ length: 90 }, (_, i) => String(10_000_000 + i)),
        role: "agent",
        active: true,
      },
      baseVersion: {},
    });
    const sample: UserChanged = await publisher.publishUserChanged(userEdit());
    const userValueBytes = (await codec.encode(USERS_TOPIC, sample)).length;
    const users = await measure("(a) UserChanged ~1 KB", concurrency, async () => {
      await publisher.publishUserChanged(userEdit());
      return userValueBytes;
    });

    // One 1 MB WAV (mu-law, 125 s) generated once, so the figure is the publisher's, not the generator's.
    const format: AudioFormat = { encoding: "mulaw", sampleRateHz: 8000 };
    const durationMs = 125_000;
    const chunks: Buffer[] = [];
    for await (const chunk of wavStream(format, durationMs, "bench")) chunks.push(chunk as Buffer);
    const wav = Buffer.concat(chunks);
    const calls = new CallGenerator(random.fork("calls"), population, {
      minCallSeconds: durationMs / 1000,
      maxCallSeconds: durationMs / 1000,
      recorderIds: ["bench-recorder"],
    });
    const withAudio = await measure("(b) CallCompleted + 1 MB audio", audioConcurrency, async () => {
      const call = calls.next(Date.now());
      const event = await publisher.publishCallCompleted(call.metadata, {
        body: Readable.from([wav]),
        contentType: WAV_CONTENT_TYPE,
        codec: "pcm_mulaw",
        channels: 1,
        sampleRateHz: 8000,
      });
      return event.audio?.sizeBytes ?? 0;
    });

    const column = (r: Result) => {
      const sorted = [...r.latenciesMs].sort((a, b) => a - b);
      const perSecond = r.events / (r.elapsedMs / 1000);
      return [
        perSecond.toFixed(1),
        `${formatBytes(r.bytes / (r.elapsedMs / 1000))}/s`,
        String(r.events),
        `${percentile(sorted, 50).toFixed(1)} / ${percentile(sorted, 99).toFixed(1)} ms`,
      ];
    };
    const a = column(users);
    const b = column(withAudio);
    const rows: Array<[string, string, string]> = [
      ["", "(a) UserChanged, no audio", "(b) CallCompleted + audio"],
      ["payload per event", `${userValueBytes} B Avro value`, `${formatBytes(wav.length)} WAV upload`],
      ["publishes in flight", String(concurrency), String(audioConcurrency)],
      ["events/s", a[0]!, b[0]!],
      ["bytes/s (payload)", a[1]!, b[1]!],
      ["events in the run", a[2]!, b[2]!],
      ["latency p50 / p99", a[3]!, b[3]!],
    ];
    printSideBySide(
      `Recorder publisher, ${seconds} s per scenario, local stack (1 Kafka broker KRaft, Apicurio, S3Proxy)`,
      "producer: idempotent, acks=all, maxInFlightRequests=1; (a) has no object store traffic",
      rows,
    );
  } finally {
    await close();
    if (!args.keep) {
      await stack.down();
      process.stderr.write("[stack] stopped (--keep leaves it running)\n");
    }
  }
}

await main();
