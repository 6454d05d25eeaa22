import net from "node:net";
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { inject, expect, it } from "vitest";
import { LocalStack } from "@tandem/stack";
import { stack } from "../support/stack";

const provided = inject("tandemStack");
const local = provided.mode === "local";

it.runIf(local)("refuses to start when a port is taken by another process, naming the port", async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(45003, "127.0.0.1", resolve));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-port-test-"));
  try {
    const other = new LocalStack({ dataDir, sites: ["aaa"], basePort: 45000 });
    await expect(other.up()).rejects.toThrow(/port 45003 \(aaa postgres\) is already in use/);
  } finally {
    blocker.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

it.runIf(local)(
  "a second up after a crashed server recovers it and leaves the others as they were",
  async () => {
    if (provided.mode !== "local") return;
    const test = await stack();
    const localStack = new LocalStack({ dataDir: provided.dataDir });
    const before = await localStack.status();
    await test.kill("lon", "s3");
    await new Promise((resolve) => setTimeout(resolve, 500));
    const crashed = (await localStack.status()).find((s) => s.site === "lon" && s.kind === "s3");
    expect(crashed?.pid).toBeUndefined();
    await localStack.up();
    const after = await localStack.status();
    expect(after.every((s) => s.pid !== undefined && s.answering)).toBe(true);
    const pidOf = (rows: typeof after, site: string, kind: string) =>
      rows.find((r) => r.site === site && r.kind === kind)?.pid;
    expect(pidOf(after, "lon", "s3")).not.toBe(pidOf(before, "lon", "s3"));
    expect(pidOf(after, "nyc", "kafka")).toBe(pidOf(before, "nyc", "kafka"));
  },
);
