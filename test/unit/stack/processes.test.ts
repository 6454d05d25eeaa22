import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runningPid, startDetached, stopProcess } from "../../../packages/stack/src/processes";

describe("a managed process", () => {
  it("stays running while it execs, when its command line reads empty for a moment", async () => {
    // setpriv execs the server it starts: between the two programs the kernel shows no command line.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-processes-"));
    const marker = `marker-${process.pid}-${Date.now()}`;
    const script = path.join(dir, "reexec.sh");
    fs.writeFileSync(
      script,
      `if [ "$2" -le 0 ]; then exec /bin/sh -c 'sleep 30' "$1"; fi\nexec /bin/sh "$0" "$1" $(($2 - 1))\n`,
    );
    const proc = { name: "reexec", dir, marker, stopSignal: "SIGTERM" as const };
    const pid = startDetached(proc, "/bin/sh", [script, marker, "1000"]);
    try {
      let polls = 0;
      while (!fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("sleep 30")) {
        expect(runningPid(proc)).toBe(pid);
        polls++;
      }
      expect(polls).toBeGreaterThan(0);
      expect(runningPid(proc)).toBe(pid);
    } finally {
      if (!(await stopProcess(proc, 5000))) process.kill(pid, "SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
