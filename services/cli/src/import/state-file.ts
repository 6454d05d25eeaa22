import fs from "node:fs";
import { UsageError } from "../errors";
import type { ImportState } from "./core/resume";

/** The saved state of an earlier import, or undefined when there is none; unreadable JSON is exit 2. */
export function readState(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new UsageError(`${file}: cannot read: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${file}: is not an import state file (not JSON)`);
  }
}

/** Written beside and renamed over, so that a crash while saving leaves the previous state whole. */
export function writeState(file: string, state: ImportState): void {
  const partial = `${file}.partial`;
  fs.writeFileSync(partial, `${JSON.stringify(state)}\n`);
  fs.renameSync(partial, file);
}
