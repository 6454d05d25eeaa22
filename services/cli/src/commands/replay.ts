import fs from "node:fs";
import { once } from "node:events";
import type { Writable } from "node:stream";
import { Command } from "commander";
import type { SiteConfig, Topology } from "@tandem/config";
import { registryAuthOf } from "@tandem/config";
import { EventCodec } from "@tandem/events";
import { createKafka } from "@tandem/kafka";
import { DirectoryObjectStore, openObjectStore, type ObjectStore } from "@tandem/object-store";
import { createLogger } from "@tandem/runtime";
import { defaults } from "../defaults";
import { progressBar } from "../progress";
import { RebuildTarget, TARGET_STORE } from "../replay/rebuild";
import type { RecordView } from "../replay/records";
import {
  planReplay,
  runReplay,
  type ReplayPlan,
  type ReplaySink,
  type ReplaySummary,
} from "../replay/replay";
import { databaseName, replayRequest, type ReplayFlags, type ReplayRequest } from "../replay/request";
import { siteOf } from "./run";
import { topologyFor } from "./verify";

const say = (line: string) => process.stderr.write(`${line}\n`);

/** How many bad records are listed by coordinates; the rest are counted. */
const BAD_LISTED = 10;

/**
 * JSON lines with backpressure. A reader that goes away (`| head`) ends the replay quietly: `closed` is
 * aborted instead of the write failing.
 */
function linesSink(out: Writable, closed: AbortController): ReplaySink {
  let failure: Error | undefined;
  out.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") closed.abort();
    else failure = error;
  });
  return async (events) => {
    for (const event of events) {
      if (failure !== undefined) throw failure;
      if (closed.signal.aborted) return;
      if (!out.write(`${JSON.stringify(event)}\n`)) {
        await Promise.race([once(out, "drain"), once(closed.signal, "abort")]).catch(() => {});
      }
    }
  };
}

function describe(plan: ReplayPlan, request: ReplayRequest): string {
  const window = [
    request.fromMs === undefined ? "the log start" : new Date(request.fromMs).toISOString(),
    request.toMs === undefined ? "now" : new Date(request.toMs).toISOString(),
  ].join(" to ");
  const tenant = request.tenant === undefined ? "" : `, tenant ${request.tenant}`;
  return `replay ${request.site} ${plan.topics.join(", ") || "(no topic)"} from ${window}${tenant}`;
}

function summaryLine(summary: ReplaySummary, destination: string, seconds: number): string {
  const state = summary.complete ? "" : "stopped early: ";
  return (
    `${state}${summary.written} event(s) ${destination} (read ${summary.read} record(s): ` +
    `${summary.filtered} outside the window or tenant, ${summary.bad} bad) in ${seconds.toFixed(1)}s`
  );
}

function storesFor(topology: Topology, storeDir: string): Map<string, ObjectStore> {
  const stores = new Map<string, ObjectStore>(
    topology.sites.map((s) => [s.id, openObjectStore(s.objectStore)]),
  );
  stores.set(TARGET_STORE, new DirectoryObjectStore(storeDir));
  return stores;
}

async function replay(topology: Topology, site: SiteConfig, request: ReplayRequest, interrupt: AbortSignal) {
  const started = performance.now();
  const outputClosed = new AbortController();
  const stop = AbortSignal.any([interrupt, outputClosed.signal]);
  const logger = createLogger("tandem-replay");
  const kafka = createKafka(site.kafka, `tandem-replay-${site.id}`, logger);
  const codec = new EventCodec({
    host: site.registry.url,
    auth: registryAuthOf(site.registry),
    clientId: `tandem-replay-${site.id}`,
  });
  const admin = kafka.admin();
  await admin.connect();
  let plan: ReplayPlan;
  try {
    plan = await planReplay(admin, site.id, request.topics, { fromMs: request.fromMs, toMs: request.toMs });
  } finally {
    await admin.disconnect();
  }
  say(`${describe(plan, request)}: ${plan.total} record(s) to read`);

  const output = request.output;
  let sink: ReplaySink;
  let finish: () => Promise<string>;
  let target: RebuildTarget | undefined;
  const rejected: RecordView[] = [];
  if (output.kind === "lines") {
    const out = output.file === undefined ? process.stdout : fs.createWriteStream(output.file);
    sink = linesSink(out, outputClosed);
    finish = async () => {
      if (out !== process.stdout) {
        out.end();
        await once(out, "finish");
      }
      return output.file === undefined ? "written" : `written to ${output.file}`;
    };
  } else {
    const opened = await RebuildTarget.open({ connectionString: output.connectionString }, site.mergePolicy);
    target = opened.target;
    if (opened.migrations.length > 0) say(`database migrated: ${opened.migrations.join(", ")}`);
    sink = async (events) => {
      rejected.push(...(await target!.apply(events)).rejected);
    };
    finish = async () => `applied to ${databaseName(output.connectionString)}`;
  }

  const bad: RecordView[] = [];
  const bar = progressBar(plan.total, "records");
  let summary: ReplaySummary;
  try {
    summary = await runReplay({
      kafka,
      codec,
      plan,
      tenant: request.tenant,
      sink,
      onBad: (view) => bad.push(view),
      onProgress: (passed) => bar.increment(passed),
      signal: stop,
    });
  } finally {
    bar.stop();
  }
  for (const view of [...bad, ...rejected].slice(0, BAD_LISTED)) {
    say(`bad record ${view.topic} partition ${view.partition} offset ${view.offset}: ${view.error}`);
  }
  if (bad.length + rejected.length > BAD_LISTED)
    say(`... and ${bad.length + rejected.length - BAD_LISTED} more`);
  const destination = await finish();
  say(summaryLine(summary, destination, (performance.now() - started) / 1000));

  if (target !== undefined) {
    try {
      if (output.kind === "rebuild" && output.storeDir !== undefined && !stop.aborted) {
        const stores = storesFor(topology, output.storeDir);
        const pending = (await target.counts()).audioPending;
        const audioBar = progressBar(pending, "audio files");
        try {
          const audio = await target.copyAudio(stores, {
            concurrency: defaults.replay.audioConcurrency,
            signal: stop,
            onCopied: () => audioBar.increment(),
          });
          audioBar.stop();
          for (const failure of audio.failed.slice(0, BAD_LISTED)) {
            say(`audio of call ${failure.callId} not copied: ${failure.reason}`);
          }
          say(
            `audio: ${audio.copied} file(s) copied into ${output.storeDir} (${audio.bytes} bytes), ${audio.failed.length} not copied`,
          );
        } finally {
          audioBar.stop();
          for (const store of stores.values()) store.close();
        }
      }
      const counts = await target.counts();
      say(
        `database now holds ${counts.calls} call(s), ${counts.users} user(s); audio pending for ${counts.audioPending} call(s)` +
          (counts.audioPending > 0 ? " (the site's materializer copies it once it runs)" : ""),
      );
    } finally {
      await target.close();
    }
  }
  if (outputClosed.signal.aborted) return;
  if (!summary.complete) {
    say(
      summary.resumeFrom === undefined
        ? "to resume: run the same command again"
        : `to resume: the same command with --from ${new Date(summary.resumeFrom).toISOString()} (events of that instant come again)`,
    );
    process.exitCode = 130;
  } else if (summary.bad + rejected.length > 0) process.exitCode = 1;
}

export function replayCommand(): Command {
  return new Command("replay")
    .description(
      "read a site's event topics from a time, decoded: to JSON lines, or into a fresh database (disaster recovery)",
    )
    .requiredOption("--site <id>", "the site whose Kafka cluster is read")
    .option(
      "--topic <streams>",
      "streams (calls, users: the local topic and every <origin>. copy) or exact topic names, comma-separated",
      defaults.replay.topics,
    )
    .option(
      "--from <time>",
      "first record time: 2026-11-01T00:00Z, 2026-11-01 (UTC), -2h (default: log start)",
    )
    .option("--to <time>", "records before this time (default: the end of the log when the replay starts)")
    .option("--tenant <uuid>", "only this tenant's events")
    .option("--out <file>", "write JSON lines to this file instead of stdout")
    .option("--rebuild <postgres-url>", "migrate this empty database and apply the events to it")
    .option(
      "--store-dir <dir>",
      "with --rebuild: copy the calls' audio into this directory store, sha256 verified",
    )
    .option("--config <file>", "topology file (default: the local stack in --data-dir)")
    .option("--data-dir <dir>", "the local stack's data directory", defaults.dataDir)
    .addHelpText(
      "after",
      `
Offsets are looked up by timestamp; the replay reads up to the end offsets captured when it starts, so
it ends even while events keep arriving. Progress and the summary go to stderr, events to stdout.
Ctrl-C stops cleanly and prints the --from to resume with. Exit code 1 when bad records were skipped.

Examples:
  tandem replay --site lon --topic calls --from 2026-11-01T00:00Z --to 2026-11-02T00:00Z > calls.jsonl
  tandem replay --site lon --tenant 0b6f2d0e-8a53-4c1e-9f3e-4f1c2a7d9b10 --from -1d --out tenant.jsonl
  tandem replay --site nyc --rebuild postgres://tandem:secret@db2:5432/lon --store-dir /mnt/nas/lon`,
    )
    .action(async (flags: ReplayFlags & { config?: string; dataDir: string }) => {
      const request = replayRequest(flags, Date.now());
      const topology = topologyFor(flags.config, flags.dataDir);
      siteOf(topology, request.site);
      const site = topology.sites.find((s) => s.id === request.site)!;
      const stop = new AbortController();
      const onSignal = () => {
        say("\nstopping after the batch in flight (Ctrl-C again to quit at once)");
        stop.abort();
        process.once("SIGINT", () => process.exit(130));
      };
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        await replay(topology, site, request, stop.signal);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
