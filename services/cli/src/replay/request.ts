/** Validation of the inspect and replay flags into what the commands run. Pure: `now` is passed in. */
import { InvalidArgumentError } from "commander";
import { isUuid } from "@tandem/events";
import { defaults } from "../defaults";
import { UsageError } from "../errors";
import { parseWindow } from "./time";

/** `--last`: a whole number of records. */
export function parseLast(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > defaults.inspect.maxLast) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${defaults.inspect.maxLast}`);
  }
  return count;
}

export interface ReplayFlags {
  site: string;
  topic: string;
  from?: string;
  to?: string;
  tenant?: string;
  out?: string;
  rebuild?: string;
  storeDir?: string;
}

export type ReplayOutput =
  | { kind: "lines"; file: string | undefined }
  | { kind: "rebuild"; connectionString: string; storeDir: string | undefined };

export interface ReplayRequest {
  site: string;
  topics: string[];
  fromMs: number | undefined;
  toMs: number | undefined;
  tenant: string | undefined;
  output: ReplayOutput;
}

const POSTGRES_URL = /^postgres(ql)?:\/\/[^/]+\/[^/?]+/;

export function replayRequest(flags: ReplayFlags, now: number): ReplayRequest {
  const topics = flags.topic
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  if (topics.length === 0) throw new UsageError("--topic: name a stream (calls, users) or a topic");
  const tenant = flags.tenant?.trim().toLowerCase();
  if (tenant !== undefined && !isUuid(tenant)) {
    throw new UsageError(`--tenant: "${flags.tenant}" is not a tenant UUID`);
  }
  if (flags.out !== undefined && flags.rebuild !== undefined) {
    throw new UsageError("--out and --rebuild exclude each other: write JSON lines or rebuild a database");
  }
  if (flags.storeDir !== undefined && flags.rebuild === undefined) {
    throw new UsageError("--store-dir needs --rebuild (it is where the rebuilt site's audio goes)");
  }
  if (flags.rebuild !== undefined && !POSTGRES_URL.test(flags.rebuild)) {
    throw new UsageError(
      "--rebuild: expected a PostgreSQL URL such as postgres://user:password@host:5432/database",
    );
  }
  const output: ReplayOutput =
    flags.rebuild === undefined
      ? { kind: "lines", file: flags.out }
      : { kind: "rebuild", connectionString: flags.rebuild, storeDir: flags.storeDir };
  return { site: flags.site, topics, ...parseWindow(flags, now), tenant, output };
}

/** The database a connection string names, for messages that must not show its password. */
export function databaseName(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${decodeURIComponent(url.pathname.slice(1))} on ${url.host}`;
  } catch {
    return "the database";
  }
}
