import fs from "node:fs";
import { Command } from "commander";
import type { SiteConfig } from "@tandem/config";
import { CALLS_TOPIC, USERS_TOPIC, merge, type VersionVector } from "@tandem/events";
import { createPool, userStatesById } from "@tandem/materializer";
import { defaults } from "../defaults";
import { UsageError } from "../errors";
import { parseCallMeta, parseUserMeta, readJsonObject } from "../publish/input";
import { reach, siteIn, withPublisher } from "../publish/site";

interface PublishFlags {
  config?: string;
  dataDir: string;
  site: string;
  meta: string;
  json?: boolean;
}

/** The user's version as the site's database holds it: {} for a user it does not know yet. */
async function siteVersionOf(site: SiteConfig, userId: string): Promise<VersionVector> {
  const pool = createPool(site.postgres, 1);
  try {
    const state = (await userStatesById(pool, [userId])).get(userId);
    return (state?.identity ?? []).reduce<VersionVector>((version, s) => merge(version, s.version), {});
  } finally {
    await pool.end();
  }
}

function print(json: boolean | undefined, ids: Record<string, string | number>): void {
  if (json) console.log(JSON.stringify(ids));
  else for (const [name, value] of Object.entries(ids)) console.log(`${name} ${value}`);
}

function readableFile(file: string): void {
  try {
    if (!fs.statSync(file).isFile()) throw new Error("not a file");
    fs.accessSync(file, fs.constants.R_OK);
  } catch (error) {
    throw new UsageError(`${file}: cannot read: ${(error as Error).message}`);
  }
}

export function publishCommand(): Command {
  const publish = new Command("publish")
    .description("publish a call (audio, then event) or a user edit at a site, without a Kafka client")
    .addHelpText(
      "after",
      `
For scripts and recorders that cannot embed a Kafka client (docs/recorders.md). The input is checked
first (exit 2, nothing sent); then the audio is uploaded to the site's store and only then the event is
published, so a failure leaves no event (exit 1); a rerun publishes the same call's event id again.

Examples:
  tandem publish call --config topology.yaml --site nyc --audio call.wav --meta examples/publish/call.json
  tandem publish user --config topology.yaml --site nyc --meta examples/publish/user.json --json`,
    );
  const common = (command: Command) =>
    command
      .requiredOption("--site <id>", "the site the call or edit happened at")
      .requiredOption("--meta <file>", "the call's or the edit's fields (JSON, see examples/publish/)")
      .option("--json", "the ids as one JSON object")
      .option("--config <file>", "topology file (default: the local stack in --data-dir)")
      .option("--data-dir <dir>", "the local stack's data directory", defaults.dataDir);

  common(publish.command("call"))
    .description("upload a call's audio to the site's store, then publish its CallCompleted")
    .requiredOption("--audio <file>", "the recording, streamed to the store")
    .action(async (flags: PublishFlags & { audio: string }) => {
      const site = siteIn(flags);
      const { call, format, planned } = parseCallMeta(flags.meta, readJsonObject(flags.meta), site.id);
      readableFile(flags.audio);
      const event = await withPublisher(site, CALLS_TOPIC, async (publisher, store) => {
        await reach(`site ${site.id}: object store unreachable`, () => store.head(planned.audio!.objectKey));
        const body = fs.createReadStream(flags.audio);
        return publisher.publishCallCompleted(call, { ...format, body });
      });
      print(flags.json, {
        callId: event.callId,
        eventId: event.eventId,
        objectKey: event.audio!.objectKey,
        sha256: event.audio!.sha256,
        sizeBytes: event.audio!.sizeBytes,
      });
    });

  common(publish.command("user"))
    .description("publish a user's UserChanged (upsert or delete)")
    .action(async (flags: PublishFlags) => {
      const site = siteIn(flags);
      const edit = parseUserMeta(flags.meta, readJsonObject(flags.meta), site.id);
      // Based on what the site knows of the user, so that the edit supersedes it rather than conflicts.
      const baseVersion =
        edit.baseVersion ??
        (await reach(`site ${site.id}: cannot read the user's version from PostgreSQL`, () =>
          siteVersionOf(site, edit.userId),
        ));
      const event = await withPublisher(site, USERS_TOPIC, (publisher) =>
        publisher.publishUserChanged({ ...edit, baseVersion }),
      );
      print(flags.json, { userId: event.userId, eventId: event.eventId });
    });
  return publish;
}
