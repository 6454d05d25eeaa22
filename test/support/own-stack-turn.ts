import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const LOCK = path.resolve(".tandem/own-stack.lock");

function holderAlive(): boolean {
  try {
    const pid = Number(fs.readFileSync(LOCK, "utf8"));
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until no other file that starts a stack of its own (the soak, the demo) is running, and returns
 * the release. Both at once, beside the lanes' tests, overloaded two cores until PostgreSQL connections and
 * SCRAM handshakes timed out; one after the other they pass. A holder that died leaves its turn.
 */
export async function ownStackTurn(): Promise<() => void> {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      fs.writeFileSync(LOCK, String(process.pid), { flag: "wx" });
      return () => fs.rmSync(LOCK, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (!holderAlive()) fs.rmSync(LOCK, { force: true });
      else await sleep(2000);
    }
  }
}
