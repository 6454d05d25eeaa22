import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { audioObjectKey } from "@tandem/events";
import { parseCallMeta, parseUserMeta, readJsonObject } from "../../../services/cli/src/publish/input";
import { usageProblem } from "../../support/usage-error";

const EXAMPLES = path.resolve(import.meta.dirname, "../../../examples/publish");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-publish-input-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function example(name: "call.json" | "user.json"): Record<string, unknown> {
  return readJsonObject(path.join(EXAMPLES, name));
}

function writeFile(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe("publish: reading a metadata file", () => {
  it("names the file when it is missing, not JSON, or not an object", () => {
    const missing = path.join(dir, "absent.json");
    expect(usageProblem(() => readJsonObject(missing))).toMatch(
      new RegExp(`^${missing}: cannot read: ENOENT`),
    );
    const broken = writeFile("broken.json", '{"callId": ');
    expect(usageProblem(() => readJsonObject(broken))).toMatch(new RegExp(`^${broken}: not JSON: `));
    const list = writeFile("list.json", "[1, 2]");
    expect(usageProblem(() => readJsonObject(list))).toBe(`${list}: must be a JSON object`);
  });
});

describe("publish: a call's metadata", () => {
  it("is documented in docs/recorders.md as examples/publish/call.json has it", () => {
    const doc = fs.readFileSync(path.resolve(EXAMPLES, "../../docs/recorders.md"), "utf8");
    const section = doc.slice(doc.indexOf("## No Kafka client?"));
    const [, shown] = /```json\n([\s\S]*?)```/.exec(section) ?? [];
    expect(JSON.parse(shown!)).toEqual(example("call.json"));
  });

  it("accepts the example, deriving the event id, origin and object key as the publisher does", () => {
    const meta = example("call.json");
    const { call, format, planned } = parseCallMeta("call.json", meta, "nyc");
    expect(call.callId).toBe(meta.callId);
    expect(format).toEqual(meta.audio);
    expect(planned.originSite).toBe("nyc");
    expect(planned.audio!.objectKey).toBe(audioObjectKey(call.tenantId, call.startedAtMs, call.callId));
    // The same call always gets the same event id: a rerun is idempotent.
    expect(parseCallMeta("call.json", example("call.json"), "nyc").planned.eventId).toBe(planned.eventId);
  });

  it("names every missing or bad field on one line, with the library's wording", () => {
    const { tenantId: _tenant, ...meta } = example("call.json");
    const bad = { ...meta, durationMs: 1, audio: { ...(meta.audio as object), channels: 0 } };
    expect(usageProblem(() => parseCallMeta("call.json", bad, "nyc"))).toBe(
      "call.json: tenantId: is missing; audio.channels: must be positive",
    );
    expect(usageProblem(() => parseCallMeta("call.json", { ...meta, tenantId: "T1" }, "nyc"))).toBe(
      "call.json: tenantId: must be a canonical lowercase UUID",
    );
  });

  it("refuses a call without its audio's description, and fields the schema does not have", () => {
    const { audio: _audio, ...meta } = example("call.json");
    expect(usageProblem(() => parseCallMeta("call.json", meta, "nyc"))).toMatch(
      /^call\.json: audio: must be an object/,
    );
    expect(
      usageProblem(() => parseCallMeta("call.json", { ...example("call.json"), queue: "x" }, "nyc")),
    ).toBe(`call.json: (top level): Unrecognized key: "queue"`);
  });

  it("refuses a start too late for an object key", () => {
    const meta = { ...example("call.json"), startedAtMs: 4e14, endedAtMs: 4e14, durationMs: 0 };
    expect(usageProblem(() => parseCallMeta("call.json", meta, "nyc"))).toMatch(
      /^call\.json: cannot build an audio object key: startedAtMs/,
    );
  });
});

describe("publish: a user edit", () => {
  it("accepts the example and a delete without changes", () => {
    expect(parseUserMeta("user.json", example("user.json"), "nyc").operation).toBe("UPSERT");
    const { changes: _changes, ...rest } = example("user.json");
    expect(parseUserMeta("user.json", { ...rest, operation: "DELETE" }, "nyc").operation).toBe("DELETE");
  });

  it("names the file's own field names: changes, not the event's fields", () => {
    const meta = { ...example("user.json"), changes: { email: "not-an-address" } };
    expect(usageProblem(() => parseUserMeta("user.json", meta, "nyc"))).toBe(
      "user.json: changes.email: must be an e-mail address",
    );
    const empty = { ...example("user.json"), changes: {} };
    expect(usageProblem(() => parseUserMeta("user.json", empty, "nyc"))).toBe(
      "user.json: changedFields: must name at least one field for an UPSERT",
    );
  });

  it("refuses unknown fields, a missing id and a malformed base version", () => {
    expect(
      usageProblem(() => parseUserMeta("user.json", { ...example("user.json"), nmae: "x" }, "nyc")),
    ).toMatch(/^user\.json: nmae: unknown field/);
    const { userId: _user, ...meta } = example("user.json");
    expect(usageProblem(() => parseUserMeta("user.json", meta, "nyc"))).toBe("user.json: userId: is missing");
    const version = { ...example("user.json"), baseVersion: { nyc: { wallTimeMs: -1, logical: 0 } } };
    expect(usageProblem(() => parseUserMeta("user.json", version, "nyc"))).toBe(
      "user.json: baseVersion.nyc.wallTimeMs: must not be negative",
    );
  });
});
