import fs from "node:fs";
import path from "node:path";
import avro from "avsc";
import { afterAll, describe, expect, it } from "vitest";
import { parseTopology, TopologyError, type LinkConfig } from "@tandem/config";
import {
  MAX_EVENT_VALUE_BYTES,
  callCompletedSchema,
  oversizedProblem,
  parseHeaders,
  userChangedSchema,
  validateCallCompleted,
  validateUserChanged,
} from "@tandem/events";
import { route } from "../../../services/bridge/src";
import { RelayPlan } from "@tandem/replication";
import {
  CORPUS_DIR,
  CORPUS_IDS,
  corpusFile,
  corpusText,
  loadRecordEntries,
  loadTopologyEntries,
  type RecordEntry,
} from "../../corpus/corpus";
import { generatedFiles } from "../../corpus/generate";

const records = loadRecordEntries();
const topologies = loadTopologyEntries();
const tally = { tried: 0, handled: 0 };

afterAll(() => {
  console.log(`bad-input corpus (unit): ${tally.handled} of ${tally.tried} inputs handled as expected`);
});

/** Counts an input as handled only once its assertions passed. */
function counted(check: () => void): void {
  tally.tried++;
  check();
  tally.handled++;
}

const link: LinkConfig = {
  from: "nyc",
  to: "lon",
  streams: ["calls", "users"],
  filters: {
    tenants: { deny: [CORPUS_IDS.deniedTenant] },
    groups: { deny: [CORPUS_IDS.deniedGroup] },
  },
  schedule: { kind: "continuous" },
  delivery: "at-least-once",
};
const relay = new RelayPlan([link]);
const topicOf = (entry: RecordEntry) => (entry.stream === "calls" ? "calls.completed" : "users.changed");

describe("the committed corpus", () => {
  it("is what generate.ts writes, and stays small", async () => {
    const generated = await generatedFiles();
    let bytes = 0;
    for (const [name, content] of generated) {
      const committed = fs.readFileSync(path.join(CORPUS_DIR, name));
      expect(committed.equals(Buffer.from(content)), `${name} is stale: run test/corpus/generate.ts`).toBe(
        true,
      );
      bytes += committed.length;
    }
    expect(bytes).toBeLessThan(1024 * 1024);
  });

  it("names a unique id and a file that exists for every entry", () => {
    const ids = [...records, ...topologies].map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const entry of records) {
      const { value } = entry;
      if (value.kind !== "null") expect(() => corpusFile(value.file)).not.toThrow();
    }
  });
});

describe("topology corpus: refused before anything starts", () => {
  it.each(topologies.map((t) => [t.id, t] as const))("%s", (_id, entry) => {
    counted(() => {
      let error: unknown;
      try {
        parseTopology(corpusText(entry.file), { env: entry.env, sourceName: entry.file });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(TopologyError);
      const messages = (error as TopologyError).problems.map((p) =>
        p.path === "" ? p.message : `${p.path}: ${p.message}`,
      );
      expect(messages).toHaveLength(entry.problems.length);
      for (const expected of entry.problems) {
        expect(
          messages.some((m) => m.includes(expected)),
          `${expected} in ${messages.join(" | ")}`,
        ).toBe(true);
      }
      expect((error as Error).message).toContain(entry.file);
    });
  });
});

describe("record corpus: what the bridge decides from the headers alone", () => {
  const atNyc = records.filter((r) => r.site === "nyc");

  it.each(
    atNyc.filter((r) => r.expect.outcome === "dlq" && r.expect.reason.startsWith("malformed tandem headers")),
  )("$id: malformed headers", (entry) => {
    counted(() => {
      const parsed = parseHeaders(entry.headers);
      expect(parsed.ok).toBe(false);
      const reason = parsed.ok
        ? ""
        : `malformed tandem headers: ${parsed.problems.map((p) => `${p.header} ${p.problem}`).join("; ")}`;
      expect(reason).toMatch(new RegExp((entry.expect as { reason: string }).reason));
    });
  });

  it.each(atNyc.filter((r) => r.expect.outcome === "not-forwarded"))("$id: skipped", (entry) => {
    counted(() => {
      const parsed = parseHeaders(entry.headers);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) return;
      const decision = route(link, topicOf(entry), parsed.headers, relay);
      expect(decision).toEqual({ action: "skip", reason: (entry.expect as { skip: string }).skip });
    });
  });

  it.each(atNyc.filter((r) => r.expect.outcome !== "not-forwarded" && !isHeaderDlq(r)))(
    "$id: headers let it through to the value checks",
    (entry) => {
      counted(() => {
        const parsed = parseHeaders(entry.headers);
        expect(parsed.ok).toBe(true);
        if (parsed.ok) expect(route(link, topicOf(entry), parsed.headers, relay).action).toBe("forward");
      });
    },
  );
});

describe("record corpus: event validation of valid Avro bodies", () => {
  const types = {
    calls: avro.Type.forSchema(callCompletedSchema as avro.Schema),
    users: avro.Type.forSchema(userChangedSchema as avro.Schema),
  };
  const validationFailures = records.filter(
    (r) =>
      r.site === "nyc" &&
      r.expect.outcome === "dlq" &&
      r.expect.component === "materializer" &&
      r.expect.reason.startsWith("invalid-value at .*") &&
      !r.expect.reason.includes("Avro body"),
  );

  it.each(validationFailures)("$id", (entry) => {
    counted(() => {
      if (entry.value.kind !== "registered") throw new Error("expected an Avro body");
      const decoded = types[entry.value.schemaOf].fromBuffer(corpusFile(entry.value.file));
      const plain = JSON.parse(JSON.stringify(decoded)) as unknown;
      const checked =
        entry.value.schemaOf === "calls" ? validateCallCompleted(plain) : validateUserChanged(plain);
      expect(checked.ok).toBe(false);
      if (!checked.ok) {
        const wanted = (entry.expect as { reason: string }).reason.replace("invalid-value at .*", "");
        expect(checked.error.message).toMatch(new RegExp(wanted));
      }
    });
  });
});

function isHeaderDlq(entry: RecordEntry): boolean {
  return entry.expect.outcome === "dlq" && entry.expect.reason.startsWith("malformed tandem headers");
}

describe("the size limit of an event value", () => {
  it("admits the limit and refuses one byte more, naming both sizes", () => {
    expect(oversizedProblem(Buffer.alloc(MAX_EVENT_VALUE_BYTES))).toBeUndefined();
    expect(oversizedProblem(null)).toBeUndefined();
    expect(oversizedProblem(Buffer.alloc(MAX_EVENT_VALUE_BYTES + 1))).toBe(
      `value of ${MAX_EVENT_VALUE_BYTES + 1} bytes, more than the 262144-byte limit of an event`,
    );
  });
});
