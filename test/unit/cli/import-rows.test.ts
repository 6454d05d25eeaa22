import { describe, expect, it } from "vitest";
import { v5 as uuidv5 } from "uuid";
import { IMPORT_ID_NAMESPACE, callIdOf } from "../../../services/cli/src/import/core/ids";
import { parseMapping, unknownMappedColumn } from "../../../services/cli/src/import/core/mapping";
import { callOfRow, timeMs } from "../../../services/cli/src/import/core/rows";
import { usageProblem } from "../../support/usage-error";

const TENANT = "2f1c6b7a-8d9e-4f01-a2b3-c4d5e6f70819";
const GROUP = "9a07b1c2-d3e4-4f56-8a7b-9c0d1e2f3a4b";

/** A CSV row as the manifest reader gives it: every value a string. */
const row = (changes: Record<string, string> = {}): Record<string, string> => ({
  id: "A-1001",
  audio: "audio/A-1001.wav",
  tenantId: TENANT,
  groupId: GROUP,
  recorderId: "pbx-2019",
  direction: "inbound",
  callerNumber: "+12125550100",
  callerName: "Lovelace, Ada",
  calleeNumber: "+12125550199",
  calleeName: "",
  startedAt: "2019-03-04T09:15:00Z",
  durationSeconds: "1.5",
  codec: "pcm_mulaw",
  channels: "1",
  sampleRateHz: "8000",
  queue: "support",
  ...changes,
});

const NO_MAPPING = parseMapping([], []);
const check = (values: Record<string, unknown>, mapping = NO_MAPPING) =>
  callOfRow(values, mapping, { site: "nyc" });
const reasonOf = (values: Record<string, unknown>, mapping = NO_MAPPING) => {
  const verdict = check(values, mapping);
  if (verdict.ok) throw new Error("the row was accepted");
  return verdict.reason;
};

describe("import: call ids from the archive's ids", () => {
  it("keeps an id that is a UUID (lowercased), derives a UUIDv5 of tenant and id otherwise", () => {
    expect(callIdOf("8A3E5D4C-1B2A-4C3D-9E8F-0A1B2C3D4E5F", TENANT)).toBe(
      "8a3e5d4c-1b2a-4c3d-9e8f-0a1b2c3d4e5f",
    );
    const derived = callIdOf("A-1001", TENANT);
    expect(derived).toBe(uuidv5(`${TENANT}/A-1001`, IMPORT_ID_NAMESPACE));
    // Stable across runs (a resumed import publishes the same ids), distinct across tenants and namespaces.
    expect(callIdOf("A-1001", TENANT)).toBe(derived);
    expect(callIdOf("A-1001", GROUP)).not.toBe(derived);
    expect(callIdOf("A-1001", TENANT, GROUP)).not.toBe(derived);
  });
});

describe("import: a row as a call", () => {
  it("reads the default columns, converts CSV text, and keeps unread columns as attributes", () => {
    const verdict = check(row());
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    const { call, format, planned, archiveId, audioFile } = verdict.value;
    expect({ archiveId, audioFile }).toEqual({ archiveId: "A-1001", audioFile: "audio/A-1001.wav" });
    expect(call).toMatchObject({
      callId: callIdOf("A-1001", TENANT),
      direction: "INBOUND",
      caller: { number: "+12125550100", name: "Lovelace, Ada" },
      callee: { number: "+12125550199", name: null },
      startedAtMs: Date.UTC(2019, 2, 4, 9, 15),
      endedAtMs: Date.UTC(2019, 2, 4, 9, 15, 1, 500),
      durationMs: 1500,
      participantUserIds: [],
      attributes: { queue: "support" },
    });
    expect(format).toEqual({ contentType: "audio/wav", codec: "pcm_mulaw", channels: 1, sampleRateHz: 8000 });
    // The event the publisher would send: the same ids a rerun derives.
    expect(planned).toMatchObject({ callId: call.callId, originSite: "nyc" });
    expect(planned.audio!.objectKey).toBe(`tenants/${TENANT}/2019/03/04/${call.callId}.wav`);
  });

  it("reads a JSON line shaped like tandem publish's call.json (flattened), with a UUID call id", () => {
    const verdict = check({
      callId: "8a3e5d4c-1b2a-4c3d-9e8f-0a1b2c3d4e5f",
      audioFile: "x.flac",
      tenantId: TENANT,
      groupId: GROUP,
      participantUserIds: ["6c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"],
      recorderId: "r",
      direction: "OUTBOUND",
      "caller.number": "1",
      "caller.name": null,
      "callee.number": "2",
      startedAtMs: 1795000000000,
      endedAtMs: 1795000042000,
      durationMs: 42000,
      "audio.codec": "flac",
      "audio.channels": 2,
      "audio.sampleRateHz": 16000,
      "attributes.queue": "support",
      "attributes.score": 7,
    });
    expect(verdict.ok && verdict.value.call).toMatchObject({
      callId: "8a3e5d4c-1b2a-4c3d-9e8f-0a1b2c3d4e5f",
      participantUserIds: ["6c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"],
      durationMs: 42000,
      attributes: { queue: "support", score: "7" },
    });
    expect(verdict.ok && verdict.value.format.contentType).toBe("audio/flac");
  });

  it("follows --map and --set, and names the column in a reason", () => {
    const { startedAt, id, ...rest } = row();
    const archive = { ...rest, start_time: startedAt!, ref: id! };
    const mapping = parseMapping(["startedAt=start_time", "id=ref"], ["recorderId=archive-2019"]);
    const verdict = check(archive, mapping);
    expect(verdict.ok && verdict.value.call.recorderId).toBe("archive-2019");
    expect(verdict.ok && verdict.value.call.attributes).toEqual({ queue: "support" });
    expect(reasonOf({ ...archive, start_time: "yesterday" }, mapping)).toBe(
      'start_time (startedAt): not a time: "yesterday" (ISO 8601 with a zone, or ms since the epoch)',
    );
  });

  it("rejects with the publisher's rules, each problem named by its column", () => {
    expect(reasonOf(row({ tenantId: "acme", channels: "0" }))).toBe(
      "tenantId: must be a canonical lowercase UUID; channels: must be positive",
    );
    expect(reasonOf(row({ channels: "two" }))).toBe('channels: not a number: "two"');
    expect(reasonOf(row({ direction: "sideways" }))).toMatch(/^direction: /);
    expect(reasonOf(row({ callerNumber: "" }))).toBe("callerNumber: is missing");
    expect(reasonOf(row({ id: "", audio: "" }))).toBe("id: is missing; audio: is missing");
    expect(reasonOf(row({ endedAt: "2019-03-04T09:16:00Z" }))).toBe(
      "durationSeconds: must equal endedAtMs - startedAtMs (60000)",
    );
    expect(reasonOf(row({ audio: "A-1001.xyz" }))).toMatch(/^contentType: /);
  });

  it("reads times as ISO 8601 with a zone or epoch ms, never in the machine's zone", () => {
    expect(timeMs("2019-03-04T10:02:30+01:00")).toEqual({ ms: Date.UTC(2019, 2, 4, 9, 2, 30) });
    expect(timeMs("2019-03-04 09:02:30.250Z")).toEqual({ ms: Date.UTC(2019, 2, 4, 9, 2, 30, 250) });
    expect(timeMs("1551694800000")).toEqual({ ms: 1551694800000 });
    expect(timeMs("2019-03-04T09:02:30").problem).toMatch(/^not a time/);
    expect(timeMs(undefined)).toEqual({});
  });
});

describe("import: --map and --set", () => {
  it("refuses unknown fields, a field named twice, and a --map column the CSV header lacks", () => {
    expect(usageProblem(() => parseMapping(["caller=x"], []))).toMatch(
      /^--map caller=x: unknown field caller/,
    );
    expect(usageProblem(() => parseMapping(["id"], []))).toBe("--map id: expected field=column");
    expect(usageProblem(() => parseMapping(["id=ref"], ["id=1"]))).toBe(
      "--set id=1: id is already mapped or set",
    );
    expect(unknownMappedColumn(parseMapping(["id=ref"], []), ["id", "audio"])).toBe(
      "--map id=ref: the manifest has no column ref (columns: id, audio)",
    );
    expect(unknownMappedColumn(parseMapping(["id=ref"], []), ["ref"])).toBeUndefined();
  });
});
