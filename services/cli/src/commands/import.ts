import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { isUuid } from "@tandem/events";
import { defaults } from "../defaults";
import { IMPORT_ID_NAMESPACE } from "../import/core/ids";
import { FIELDS, parseMapping } from "../import/core/mapping";
import { progressLine, summary } from "../import/core/report";
import { importArchive } from "../import/import";
import { formatOf } from "../import/manifest";
import { progressBar } from "../progress";
import { siteIn } from "../publish/site";

const say = (line: string) => process.stderr.write(`${line}\n`);
/** Without a terminal (a log), a progress line this often instead of the bar. */
const PROGRESS_LINE_EVERY_MS = 10_000;

const collect = (value: string, previous: string[] = []) => [...previous, value];

function positive(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError("expected an integer >= 1");
  return parsed;
}

function namespace(value: string): string {
  if (!isUuid(value)) throw new InvalidArgumentError("expected a canonical lowercase UUID");
  return value;
}

/** A bar with ETA on a terminal; a line every few seconds otherwise, so that a log shows the pace too. */
function progress(total: number): { update(processed: number, imported: number): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = progressBar(total, "rows");
    return { update: (processed) => bar.update(processed), stop: () => bar.stop() };
  }
  const started = performance.now();
  let last = started;
  return {
    update: (processed, imported) => {
      const now = performance.now();
      if (now - last < PROGRESS_LINE_EVERY_MS) return;
      last = now;
      say(progressLine(processed, total, imported, now - started));
    },
    stop: () => {},
  };
}

export function importCommand(): Command {
  return new Command("import")
    .description(
      "import an archive of recordings (audio files and a CSV or JSON-lines manifest) as calls at a site",
    )
    .requiredOption("--site <id>", "the site the calls are imported at (their origin)")
    .requiredOption(
      "--manifest <file>",
      "the manifest: .csv with a header row, or .jsonl (one JSON object per line)",
    )
    .option(
      "--audio-dir <dir>",
      "where the manifest's relative audio paths start (default: the manifest's directory)",
    )
    .option("--map <field=column>", "read a field from another column (repeatable)", collect)
    .option("--set <field=value>", "one value of a field for every row (repeatable)", collect)
    .option(
      "--id-namespace <uuid>",
      "namespace of the call ids derived from the archive's ids",
      namespace,
      IMPORT_ID_NAMESPACE,
    )
    .option(
      "--concurrency <n>",
      "calls uploaded and published at once",
      positive,
      defaults.import.concurrency,
    )
    .option("--state <file>", "the rows done, for a resumed import (default: <manifest>.import-state.json)")
    .option("--rejects <file>", "the rejected rows with their reasons (default: <manifest>.rejects.jsonl)")
    .option("--dry-run", "check every row and audio file, publish nothing")
    .option("--config <file>", "topology file (default: the local stack in --data-dir)")
    .option("--data-dir <dir>", "the local stack's data directory", defaults.dataDir)
    .addHelpText(
      "after",
      `
Each row is a call: its audio is uploaded to the site's store, then its CallCompleted is published, as
\`tandem publish call\` does, with the same checks. The rows are streamed; the rows done are saved in the
state file, so that a rerun after a crash or Ctrl-C skips them. A call's id is the archive's id when it is
a UUID, else a UUIDv5 of --id-namespace and "<tenantId>/<id>": a row published twice is the same event.
Rows that break a rule, name a missing audio file or repeat an id are listed with the reason in the
rejects file; the import goes on. Exit 0 when every row is imported, 1 when a row was rejected or the
site failed (rerun to resume), 2 for bad flags or a bad manifest, 130 after Ctrl-C (rerun to resume).

Fields (default columns; --map field=column reads another, --set field=value gives every row one):
${Object.entries(FIELDS)
  .map(([field, columns]) => `  ${field.padEnd(20)}${columns.join(", ")}`)
  .join("\n")}
startedAt and endedAt are ISO 8601 with a zone or ms since the epoch; the end may come from durationMs or
durationSeconds; contentType defaults by the audio file's extension; columns no field reads become the
call's attributes.

Examples:
  tandem import --config topology.yaml --site nyc --manifest examples/import/calls.csv \\
    --set codec=pcm_mulaw --set channels=1 --set sampleRateHz=8000
  tandem import --config topology.yaml --site nyc --manifest export.jsonl --audio-dir /mnt/archive \\
    --map id=recording_ref --map startedAt=start_time --dry-run`,
    )
    .action(
      async (flags: {
        site: string;
        manifest: string;
        audioDir?: string;
        map?: string[];
        set?: string[];
        idNamespace: string;
        concurrency: number;
        state?: string;
        rejects?: string;
        dryRun?: boolean;
        config?: string;
        dataDir: string;
      }) => {
        const site = siteIn(flags);
        const format = formatOf(flags.manifest);
        const mapping = parseMapping(flags.map ?? [], flags.set ?? []);
        const stop = new AbortController();
        const onSignal = (signal: NodeJS.Signals) => {
          say(`${signal}: finishing the calls in flight, then saving the state (again to quit at once)`);
          stop.abort(signal);
        };
        // Once: a second Ctrl-C gets Node's default and ends the process; the state saved so far holds.
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        const stateFile = flags.state ?? `${flags.manifest}.import-state.json`;
        const rejectsFile = flags.rejects ?? `${flags.manifest}.rejects.jsonl`;
        const outcome = await importArchive(
          {
            manifest: flags.manifest,
            format,
            audioDir: flags.audioDir ?? path.dirname(flags.manifest),
            mapping,
            site,
            idNamespace: flags.idNamespace,
            concurrency: flags.concurrency,
            dryRun: flags.dryRun ?? false,
            rejectsFile,
            stateFile,
          },
          { say, progress },
          stop.signal,
        );
        process.removeListener("SIGINT", onSignal);
        process.removeListener("SIGTERM", onSignal);
        console.log(
          summary(outcome, { file: rejectsFile, first: outcome.firstRejects }, flags.dryRun ?? false).join(
            "\n",
          ),
        );
        if (outcome.interrupted) {
          say(`interrupted: the rows done are saved in ${stateFile}; run the same command again to resume`);
          process.exitCode = stop.signal.reason === "SIGTERM" ? 143 : 130;
        } else {
          process.exitCode = outcome.rejected > 0 ? 1 : 0;
        }
      },
    );
}
