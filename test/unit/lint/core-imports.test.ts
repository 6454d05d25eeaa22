import path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const eslint = new ESLint({ cwd: ROOT });

/** The rules that fire on `code` placed as the file `file` (root-relative; it need not exist). */
async function rulesFiredOn(file: string, code: string): Promise<Array<string | null>> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return (result?.messages ?? []).map((m) => m.ruleId);
}

const RULE = "@typescript-eslint/no-restricted-imports";
const CORE_FILE = "services/bridge/src/core/probe.ts";

// The first lint loads ESLint's TypeScript parser and rules: seconds on a busy machine.
describe("lint: adapters stay out of core/", { timeout: 60_000 }, () => {
  it.each([
    'import { Kafka } from "kafkajs";',
    'import pg from "pg";',
    'import { S3Client } from "@aws-sdk/client-s3";',
    'import { Upload } from "@aws-sdk/lib-storage";',
    'import fs from "node:fs";',
    'import { readFile } from "node:fs/promises";',
    'import { readFileSync } from "fs";',
    'import net from "node:net";',
    'export { Kafka } from "kafkajs";',
    'import type { Message } from "kafkajs";',
    'import type { PoolClient } from "pg";',
  ])("refuses %s in a core/ file", async (line) => {
    expect(await rulesFiredOn(CORE_FILE, line)).toContain(RULE);
    expect(await rulesFiredOn("packages/anything/src/core/deep/probe.ts", line)).toContain(RULE);
  });

  it("allows the same imports outside core/, and pure packages inside it", async () => {
    const adapter = 'import { Kafka } from "kafkajs";\nexport const used = [Kafka];\n';
    expect(await rulesFiredOn("services/bridge/src/link/probe.ts", adapter)).toEqual([]);
    const pure = [
      'import { z } from "zod";',
      'import { createHash } from "node:crypto";',
      "export const used = [z, createHash];",
      "",
    ].join("\n");
    expect(await rulesFiredOn(CORE_FILE, pure)).toEqual([]);
  });
});
