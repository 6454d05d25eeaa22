import { describe, expect, it } from "vitest";
import { EventCodec } from "@tandem/events";
import { DLQ_HEADERS } from "@tandem/kafka";
import { UsageError } from "../../../services/cli/src/errors";
import { formatRecord } from "../../../services/cli/src/replay/format";
import {
  inWindow,
  lastRanges,
  newest,
  selectTopics,
  totalRecords,
  windowRanges,
} from "../../../services/cli/src/replay/plan";
import type { ReadRecord } from "../../../services/cli/src/replay/reader";
import { tenantOf, viewRecord, type RecordView } from "../../../services/cli/src/replay/records";
import { resumePoint } from "../../../services/cli/src/replay/replay";
import { databaseName, parseLast, replayRequest } from "../../../services/cli/src/replay/request";
import { parseInstant, parseWindow } from "../../../services/cli/src/replay/time";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const TENANT = "0b6f2d0e-8a53-4c1e-9f3e-4f1c2a7d9b10";

describe("replay: time flags", () => {
  it("reads ISO times with a zone, dates as UTC midnight, epoch milliseconds and times before now", () => {
    expect(parseInstant("2026-11-01T00:00Z", "--from", NOW)).toBe(Date.parse("2026-11-01T00:00:00Z"));
    expect(parseInstant("2026-11-01T01:30:15.250+01:00", "--from", NOW)).toBe(
      Date.parse("2026-11-01T00:30:15.250Z"),
    );
    expect(parseInstant("2026-11-01T01:00-0500", "--from", NOW)).toBe(Date.parse("2026-11-01T06:00:00Z"));
    expect(parseInstant("2026-11-01", "--from", NOW)).toBe(Date.parse("2026-11-01T00:00:00Z"));
    expect(parseInstant("1793491200000", "--from", NOW)).toBe(1793491200000);
    expect(parseInstant("-15m", "--from", NOW)).toBe(NOW - 15 * 60_000);
    expect(parseInstant("-2d", "--from", NOW)).toBe(NOW - 2 * 86_400_000);
  });

  it("refuses a time without a zone, an impossible date and anything else, naming the flag", () => {
    expect(() => parseInstant("2026-11-01T00:00", "--from", NOW)).toThrow(/--from: .* has no time zone/);
    expect(() => parseInstant("2026-02-30", "--to", NOW)).toThrow(/--to: "2026-02-30" is not a valid date/);
    expect(() => parseInstant("2026-11-01T25:00Z", "--to", NOW)).toThrow(UsageError);
    expect(() => parseInstant("yesterday", "--from", NOW)).toThrow(/--from: "yesterday" is not a time/);
  });

  it("refuses a window that ends before it starts", () => {
    expect(() => parseWindow({ from: "2026-11-02", to: "2026-11-01" }, NOW)).toThrow(
      /--to .* must be after --from/,
    );
    expect(parseWindow({ from: "2026-11-01" }, NOW)).toEqual({
      fromMs: Date.parse("2026-11-01"),
      toMs: undefined,
    });
  });
});

describe("replay: flags", () => {
  const base = { site: "lon", topic: "calls" };

  it("splits the topics and lower-cases the tenant", () => {
    const request = replayRequest({ ...base, topic: "calls, users,", tenant: TENANT.toUpperCase() }, NOW);
    expect(request.topics).toEqual(["calls", "users"]);
    expect(request.tenant).toBe(TENANT);
    expect(request.output).toEqual({ kind: "lines", file: undefined });
  });

  it("refuses a tenant that is not a UUID, --out with --rebuild, --store-dir alone and a bad database URL", () => {
    expect(() => replayRequest({ ...base, tenant: "acme" }, NOW)).toThrow(
      /--tenant: "acme" is not a tenant UUID/,
    );
    expect(() => replayRequest({ ...base, out: "x.jsonl", rebuild: "postgres://h/db" }, NOW)).toThrow(
      /--out and --rebuild exclude each other/,
    );
    expect(() => replayRequest({ ...base, storeDir: "/tmp/x" }, NOW)).toThrow(/--store-dir needs --rebuild/);
    expect(() => replayRequest({ ...base, rebuild: "lon-db" }, NOW)).toThrow(
      /--rebuild: expected a PostgreSQL URL/,
    );
  });

  it("takes a rebuild with its store directory", () => {
    const request = replayRequest(
      { ...base, rebuild: "postgres://u:p@db:5432/lon", storeDir: "/mnt/lon" },
      NOW,
    );
    expect(request.output).toEqual({
      kind: "rebuild",
      connectionString: "postgres://u:p@db:5432/lon",
      storeDir: "/mnt/lon",
    });
  });

  it("names a database without its password", () => {
    expect(databaseName("postgres://tandem:s3cret@db:5432/lon")).toBe("lon on db:5432");
  });

  it("accepts --last from 1 to 10000", () => {
    expect(parseLast("10")).toBe(10);
    for (const bad of ["0", "-1", "2.5", "x", "10001"]) expect(() => parseLast(bad)).toThrow(/whole number/);
  });
});

describe("replay: topics of a stream", () => {
  const existing = [
    "calls.completed",
    "users.changed",
    "nyc.calls.completed",
    "sfo.calls.completed",
    "lon.calls.completed",
    "nyc.users.changed",
    "nyc.calls.completed.retry",
    "tandem.dlq",
    "__consumer_offsets",
  ];

  it("is the local topic and every remote copy, never one prefixed with the site itself", () => {
    expect(selectTopics(["calls"], existing, "lon")).toEqual([
      "calls.completed",
      "nyc.calls.completed",
      "sfo.calls.completed",
    ]);
    expect(selectTopics(["users", "calls.completed"], existing, "lon")).toEqual([
      "calls.completed",
      "nyc.users.changed",
      "users.changed",
    ]);
  });

  it("takes an exact topic name, and refuses an unknown one with the site's topics", () => {
    expect(selectTopics(["nyc.calls.completed"], existing, "lon")).toEqual(["nyc.calls.completed"]);
    expect(() => selectTopics(["ams.calls.completed"], existing, "lon")).toThrow(
      /no topic "ams.calls.completed" at site lon \(topics: calls.completed, .*tandem.dlq, users.changed\)/,
    );
  });
});

describe("replay: offset ranges", () => {
  const offsets = [
    { partition: 0, low: 0, high: 100 },
    { partition: 1, low: 95, high: 98 },
    { partition: 2, low: 7, high: 7 },
  ];

  it("reads each partition's last N offsets for inspect, skipping empty partitions", () => {
    expect(lastRanges("t", offsets, 10)).toEqual([
      { topic: "t", partition: 0, start: 90, end: 100 },
      { topic: "t", partition: 1, start: 95, end: 98 },
    ]);
  });

  it("reads from the offsets at --from to those at --to, within the captured log", () => {
    const from = new Map([
      [0, 40],
      [1, 98],
      [2, 7],
    ]);
    const to = new Map([[0, 60]]);
    expect(windowRanges("t", offsets, from, to)).toEqual([{ topic: "t", partition: 0, start: 40, end: 60 }]);
    const whole = windowRanges("t", offsets, undefined, undefined);
    expect(whole).toEqual([
      { topic: "t", partition: 0, start: 0, end: 100 },
      { topic: "t", partition: 1, start: 95, end: 98 },
    ]);
    expect(totalRecords(whole)).toBe(103);
    // An offset beyond the captured end (events arrived meanwhile) never extends the replay.
    expect(windowRanges("t", offsets, undefined, new Map([[0, 500]]))[0]?.end).toBe(100);
  });

  it("keeps the N newest records by timestamp across partitions, oldest first", () => {
    const record = (partition: number, offset: number, timestampMs: number) => ({
      partition,
      offset: String(offset),
      timestampMs,
    });
    const records = [
      record(0, 5, 100),
      record(1, 9, 300),
      record(0, 6, 200),
      record(1, 10, 300),
      record(2, 1, 50),
    ];
    expect(newest(records, 3)).toEqual([record(0, 6, 200), record(1, 9, 300), record(1, 10, 300)]);
    expect(newest(records, 10)).toHaveLength(5);
  });

  it("takes a record in the window [from, to)", () => {
    expect(inWindow(100, 100, 200)).toBe(true);
    expect(inWindow(200, 100, 200)).toBe(false);
    expect(inWindow(99, 100, undefined)).toBe(false);
    expect(inWindow(5, undefined, undefined)).toBe(true);
  });
});

describe("inspect: records", () => {
  // Nothing here reaches the registry: bad bytes fail before any schema lookup.
  const codec = new EventCodec({ host: "http://127.0.0.1:9" });
  const raw = (topic: string, value: Buffer, headers: ReadRecord["headers"] = {}): ReadRecord => ({
    topic,
    partition: 1,
    offset: "42",
    timestampMs: Date.parse("2026-11-25T10:00:00Z"),
    key: Buffer.from("k"),
    value,
    headers,
  });

  it("shows a record that is not an event with its error and bytes, instead of failing", async () => {
    const view = await viewRecord(
      codec,
      raw("calls.completed", Buffer.from("not avro"), { "tandem-tenant": TENANT }),
    );
    expect(view.error).toMatch(/^no-magic-byte at calls.completed\/1@42/);
    expect(view.value).toEqual({ bytes: 8, hex: Buffer.from("not avro").toString("hex") });
    expect(tenantOf(view)).toBe(TENANT);
    expect(formatRecord(view)).toEqual([
      "calls.completed partition 1 offset 42  2026-11-25T10:00:00.000Z  key k",
      `  headers  tandem-tenant=${TENANT}`,
      `  ERROR    ${view.error}`,
      `  value    8 bytes  ${view.value?.hex}`,
    ]);
  });

  it("shows a DLQ record's reason and source, and its value as a hex prefix", async () => {
    const value = Buffer.alloc(100, 0xab);
    const view = await viewRecord(
      codec,
      raw("tandem.dlq", value, {
        [DLQ_HEADERS.reason]: "invalid-value",
        [DLQ_HEADERS.site]: "lon",
        [DLQ_HEADERS.component]: Buffer.from("bridge nyc->lon"),
        [DLQ_HEADERS.sourceTopic]: "calls.completed",
        [DLQ_HEADERS.sourcePartition]: "2",
        [DLQ_HEADERS.sourceOffset]: "17",
        "tandem-origin": "nyc",
      }),
    );
    expect(view.value).toEqual({ bytes: 100, hex: "ab".repeat(32) });
    expect(formatRecord(view).slice(1)).toEqual([
      "  headers  tandem-origin=nyc",
      "  dlq      bridge nyc->lon at lon  from calls.completed partition 2 offset 17",
      "  reason   invalid-value",
      `  value    100 bytes  ${"ab".repeat(32)}…`,
    ]);
  });

  it("summarises a call on one line", () => {
    const view: RecordView = {
      topic: "nyc.calls.completed",
      partition: 0,
      offset: "3",
      timestamp: "2026-11-25T10:00:00.000Z",
      key: null,
      headers: {},
      kind: "CallCompleted",
      event: {
        eventId: "e",
        callId: "c",
        tenantId: TENANT,
        groupId: "g",
        participantUserIds: [],
        originSite: "nyc",
        recorderId: "r",
        direction: "INBOUND",
        caller: { number: "+1", name: "Ann" },
        callee: { number: "+2", name: null },
        startedAtMs: Date.parse("2026-11-20T10:00:00Z"),
        endedAtMs: Date.parse("2026-11-20T10:00:42Z"),
        durationMs: 42_500,
        audio: null,
        attributes: {},
      },
    };
    expect(formatRecord(view)).toEqual([
      "nyc.calls.completed partition 0 offset 3  2026-11-25T10:00:00.000Z  key (none)",
      `  CallCompleted  call c  tenant ${TENANT}  INBOUND +1 (Ann) -> +2  2026-11-20T10:00:00.000Z 42.5s  audio none`,
    ]);
  });
});

describe("replay: resuming after Ctrl-C", () => {
  it("resumes from the oldest last-read time of the unfinished partitions, or the original --from", () => {
    expect(resumePoint([], 5)).toBeUndefined();
    expect(resumePoint([300, 200], 5)).toBe(200);
    expect(resumePoint([300, undefined], 5)).toBe(5);
    expect(resumePoint([undefined], undefined)).toBeUndefined();
  });
});
