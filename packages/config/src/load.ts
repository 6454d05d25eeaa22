import { accessSync, constants, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Env } from "./env";
import { parseTopology } from "./parse";
import { TopologyError } from "./problems";
import type { Topology } from "./types";

/** Reads, validates and returns the topology file; relative paths in it are resolved against its directory. */
export function loadTopology(filePath: string, env: Env = process.env): Topology {
  let text: string;
  try {
    text = readFileSync(filePath, "utf8");
  } catch (error) {
    throw new TopologyError([{ path: "", message: `cannot read the file: ${errorCode(error)}` }], filePath);
  }
  return parseTopology(text, {
    env,
    sourceName: filePath,
    baseDir: dirname(resolve(filePath)),
    checkFile: readableFileProblem,
  });
}

function readableFileProblem(path: string): string | undefined {
  try {
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (error) {
    return `cannot read ${path}: ${errorCode(error)}`;
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : String(error);
}
