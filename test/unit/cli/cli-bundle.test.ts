import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cliBundle } from "../../../scripts/cli-bundle.mjs";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-cli-bundle-"));
const source = path.join(root, "services", "cli", "src");
fs.mkdirSync(source, { recursive: true });
fs.writeFileSync(
  path.join(source, "main.ts"),
  [
    'import fs from "node:fs";',
    'import { message } from "./message";',
    'const beside: string = fs.readFileSync(new URL("./data.txt", import.meta.url), "utf8").trim();',
    "console.log(`${message} ${beside}`);",
  ].join("\n"),
);
fs.writeFileSync(path.join(source, "data.txt"), "read beside its source\n");
const setMessage = (text: string) =>
  fs.writeFileSync(path.join(source, "message.ts"), `export const message: string = "${text}";\n`);
const run = (main: string) => execFileSync(process.execPath, [main], { encoding: "utf8" }).trim();

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("the tandem command's bundle (scripts/cli-bundle.mjs)", () => {
  it("runs the sources, reads files beside them, and is built again only when they change", async () => {
    setMessage("one");
    const first = await cliBundle(root);
    expect(run(first)).toBe("one read beside its source");
    const builtAt = fs.statSync(first).mtimeMs;
    expect(await cliBundle(root)).toBe(first);
    expect(fs.statSync(first).mtimeMs).toBe(builtAt);

    setMessage("two");
    const second = await cliBundle(root);
    expect(second).not.toBe(first);
    expect(run(second)).toBe("two read beside its source");
    // A process started from the first may still load its chunks: it stays until unused for a day.
    expect(run(first)).toBe("one read beside its source");
  }, 60_000);
});
