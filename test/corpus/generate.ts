/**
 * Writes the bad-input corpus (records.json, topologies.json and the files they name) deterministically:
 * fixed ids, a seeded generator for random bytes. Run with `npx tsx test/corpus/generate.ts`; the output
 * is committed, and a unit test checks that it is up to date.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import avro from "avsc";
import { format, resolveConfig } from "prettier";
import { stringify } from "yaml";
import { v5 as uuidv5 } from "uuid";
import {
  audioObjectKey,
  callCompletedSchema,
  peekIdentities,
  userChangedSchema,
  type CallCompleted,
  type UserChanged,
} from "@tandem/events";
import {
  CORPUS_DIR,
  CORPUS_IDS,
  CORPUS_OVERSIZED_BYTES,
  type RecordEntry,
  type RecordExpectation,
  type TopologyEntry,
} from "./corpus";
import { seededBytes } from "../support/random";

const NAMESPACE = "4b8f0c1e-7a2d-4e6f-9b3a-5c7d9e1f2a3b";
const idFor = (name: string) => uuidv5(name, NAMESPACE);

const callType = avro.Type.forSchema(callCompletedSchema as avro.Schema);
const userType = avro.Type.forSchema(userChangedSchema as avro.Schema);

const STARTED_AT_MS = Date.parse("2026-03-04T05:06:07Z");
const AUDIO = seededBytes(7, 4096);
const AUDIO_SHA256 = createHash("sha256").update(AUDIO).digest("hex");

function call(name: string, overrides: Partial<CallCompleted> = {}): CallCompleted {
  const callId = idFor(`${name}/call`);
  return {
    eventId: idFor(`${name}/event`),
    callId,
    tenantId: CORPUS_IDS.tenant,
    groupId: CORPUS_IDS.group,
    participantUserIds: [idFor(`${name}/user`)],
    originSite: "nyc",
    recorderId: "corpus-recorder",
    direction: "INBOUND",
    caller: { number: "+12125550100", name: null },
    callee: { number: "+442071234567", name: "Front desk" },
    startedAtMs: STARTED_AT_MS,
    endedAtMs: STARTED_AT_MS + 60_000,
    durationMs: 60_000,
    audio: null,
    attributes: { corpus: name },
    ...overrides,
  };
}

function user(name: string, overrides: Partial<UserChanged> = {}): UserChanged {
  return {
    eventId: idFor(`${name}/event`),
    userId: idFor(`${name}/user`),
    tenantId: CORPUS_IDS.tenant,
    groupId: CORPUS_IDS.group,
    operation: "UPSERT",
    changedFields: ["name", "email"],
    fields: { name: "Ada", email: "ada@example.com", extensions: null, role: null, active: null },
    hlc: { wallTimeMs: STARTED_AT_MS, logical: 0 },
    baseVersion: {},
    originSite: "nyc",
    ...overrides,
  };
}

function audioRef(objectKey: string) {
  return {
    objectKey,
    sizeBytes: AUDIO.length,
    sha256: AUDIO_SHA256,
    contentType: "audio/wav",
    codec: "pcm_s16le",
    channels: 1,
    sampleRateHz: 8000,
  };
}

const files = new Map<string, Buffer | string>();
const entries: RecordEntry[] = [];

function file(name: string, content: Buffer | string): string {
  files.set(name, content);
  return name;
}

interface Identity {
  eventId: string;
  tenantId: string;
  groupId: string;
}

function headersOf(identity: Identity, origin = "nyc", pathText = origin): Record<string, string> {
  return {
    "tandem-event-id": identity.eventId,
    "tandem-origin": origin,
    "tandem-path": pathText,
    "tandem-tenant": identity.tenantId,
    "tandem-group": identity.groupId,
  };
}

type Draft = Omit<RecordEntry, "headers" | "key" | "stream"> &
  Partial<Pick<RecordEntry, "headers" | "key" | "stream">>;

/**
 * The corpus link nyc -> lon filters tenants, and on a filtered link the bridge reads the tenant and group
 * from the value to check the headers: a body it cannot read that far, or whose identities differ from
 * the headers, is refused at nyc instead of reaching lon's materializer.
 */
const FILTERED_LINK_REASON =
  "filtered link: (the value's tenant and group cannot be read|headers name tenant)";

function refusedByFilteredLink(draft: Draft, identity: Identity): boolean {
  const bytes = draft.value.kind === "registered" ? files.get(draft.value.file) : undefined;
  if (draft.site !== "nyc" || !Buffer.isBuffer(bytes)) return false;
  const peeked = peekIdentities(Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), bytes]));
  return peeked?.tenantId !== identity.tenantId || peeked.groupId !== identity.groupId;
}

function add(draft: Draft, identity: Identity & { key: string }): void {
  const forwarded = draft.expect.outcome === "dlq" && draft.expect.component === "materializer";
  entries.push({
    stream: "calls",
    key: identity.key,
    headers: draft.site === "lon" ? headersOf(identity, "nyc", "nyc,lon") : headersOf(identity),
    ...draft,
    ...(forwarded && refusedByFilteredLink(draft, identity)
      ? { expect: bridgeDlq(FILTERED_LINK_REASON) }
      : {}),
  });
}

const bridgeDlq = (reason: string): RecordExpectation => ({
  outcome: "dlq",
  site: "nyc",
  component: "bridge",
  reason,
});
const materializerDlq = (reason: string): RecordExpectation => ({
  outcome: "dlq",
  site: "lon",
  component: "materializer",
  reason,
});

/** A call whose Avro body is valid but whose content fails validation, at nyc and at lon. */
function invalidCall(id: string, description: string, overrides: Partial<CallCompleted>, reason: string) {
  const event = call(id, overrides);
  const body = file(`values/${id}.avro`, callType.toBuffer(event));
  const identity = { ...call(id), key: call(id).callId };
  add(
    {
      id,
      description,
      site: "nyc",
      value: { kind: "registered", file: body, schemaOf: "calls" },
      expect: materializerDlq(reason),
    },
    identity,
  );
}

function generateRecords(): void {
  const valid = call("valid");
  const validBody = callType.toBuffer(valid);
  const validFile = file("values/valid-call.avro", validBody);
  const fresh = (id: string) => {
    const c = call(id);
    return { ...c, key: c.callId };
  };

  // Values a bridge cannot translate: dead-lettered at the source, never forwarded.
  add(
    {
      id: "wrong-magic-byte",
      description: "Confluent header with magic byte 1 in front of a valid Avro body",
      site: "nyc",
      value: {
        kind: "raw",
        file: file("values/wrong-magic-byte.bin", Buffer.concat([Buffer.from([1, 0, 0, 0, 1]), validBody])),
      },
      expect: bridgeDlq("not in the Confluent wire format: first byte is 0x01"),
    },
    fresh("wrong-magic-byte"),
  );
  add(
    {
      id: "json-value",
      description: "the event as JSON instead of Avro",
      site: "nyc",
      value: { kind: "raw", file: file("values/json-value.bin", JSON.stringify(call("json-value"))) },
      expect: bridgeDlq("first byte is 0x7b"),
    },
    fresh("json-value"),
  );
  add(
    {
      id: "empty-value",
      description: "a value of zero bytes",
      site: "nyc",
      value: { kind: "raw", file: file("values/empty.bin", Buffer.alloc(0)) },
      expect: bridgeDlq("empty value"),
    },
    fresh("empty-value"),
  );
  add(
    {
      id: "null-value",
      description: "a tombstone (null value) on an event topic",
      site: "nyc",
      value: { kind: "null" },
      expect: bridgeDlq("record has no value"),
    },
    fresh("null-value"),
  );
  add(
    {
      id: "short-wire-header",
      description: "three bytes: magic byte and half a schema id",
      site: "nyc",
      value: { kind: "raw", file: file("values/short-wire-header.bin", Buffer.from([0, 0, 0])) },
      expect: bridgeDlq("shorter than the 5-byte header"),
    },
    fresh("short-wire-header"),
  );
  add(
    {
      id: "unknown-schema-id",
      description: "a valid body behind a schema id the registry never issued",
      site: "nyc",
      value: { kind: "schema-id", file: validFile, schemaId: 2_147_480_000 },
      expect: bridgeDlq("schema id 2147480000 is unknown at the source registry"),
    },
    fresh("unknown-schema-id"),
  );
  add(
    {
      id: "negative-schema-id",
      description: "schema id 0xffffffff (-1 as a signed int)",
      site: "nyc",
      value: { kind: "schema-id", file: validFile, schemaId: -1 },
      expect: bridgeDlq("schema id -1"),
    },
    fresh("negative-schema-id"),
  );
  add(
    {
      id: "oversized-value",
      description: `a valid call with a ${CORPUS_OVERSIZED_BYTES}-byte attribute`,
      site: "nyc",
      value: {
        kind: "registered",
        file: file(
          "values/oversized-call.avro",
          callType.toBuffer(
            call("oversized-value", { attributes: { blob: "x".repeat(CORPUS_OVERSIZED_BYTES) } }),
          ),
        ),
        schemaOf: "calls",
      },
      expect: bridgeDlq("bytes, more than the 262144-byte limit"),
    },
    fresh("oversized-value"),
  );
  add(
    {
      id: "call-on-users-topic",
      description: "a CallCompleted (with the calls schema id) written to users.changed",
      site: "nyc",
      stream: "users",
      value: { kind: "registered", file: validFile, schemaOf: "calls" },
      expect: bridgeDlq(
        "is (io\\.tandem\\.events\\.)?CallCompleted, but nyc\\.users\\.changed carries UserChanged",
      ),
    },
    fresh("call-on-users-topic"),
  );

  // Headers: missing or malformed ones are dead-lettered by the bridge, whatever the value.
  const headerCases: Array<
    [string, string, (h: Record<string, string>) => Record<string, string | string[]>, string]
  > = [
    ["no-headers", "no Tandem header at all", () => ({}), "tandem-event-id header is absent"],
    [
      "missing-tenant-header",
      "no tandem-tenant",
      ({ "tandem-tenant": _, ...h }) => h,
      "tandem-tenant header is absent",
    ],
    [
      "missing-group-header",
      "no tandem-group",
      ({ "tandem-group": _, ...h }) => h,
      "tandem-group header is absent",
    ],
    [
      "missing-origin-header",
      "no tandem-origin",
      ({ "tandem-origin": _, ...h }) => h,
      "tandem-origin header is absent",
    ],
    [
      "missing-path-header",
      "no tandem-path",
      ({ "tandem-path": _, ...h }) => h,
      "tandem-path header is absent",
    ],
    [
      "missing-event-id-header",
      "no tandem-event-id",
      ({ "tandem-event-id": _, ...h }) => h,
      "tandem-event-id header is absent",
    ],
    [
      "tenant-not-uuid",
      "tandem-tenant is a name",
      (h) => ({ ...h, "tandem-tenant": "acme" }),
      'tandem-tenant "acme" is not a canonical UUID',
    ],
    [
      "tenant-uppercase",
      "tandem-tenant in upper case",
      (h) => ({ ...h, "tandem-tenant": CORPUS_IDS.tenant.toUpperCase() }),
      "tandem-tenant .* is not a canonical UUID",
    ],
    [
      "tenant-empty",
      "tandem-tenant empty",
      (h) => ({ ...h, "tandem-tenant": "" }),
      'tandem-tenant "" is not a canonical UUID',
    ],
    [
      "tenant-repeated",
      "tandem-tenant twice, two tenants",
      (h) => ({ ...h, "tandem-tenant": [CORPUS_IDS.tenant, CORPUS_IDS.deniedTenant] }),
      "tandem-tenant header is repeated with different values",
    ],
    [
      "event-id-traversal",
      "tandem-event-id is a path",
      (h) => ({ ...h, "tandem-event-id": "../../etc/passwd" }),
      "tandem-event-id .* is not a canonical UUID",
    ],
    [
      "origin-not-site-id",
      "tandem-origin with capitals and punctuation",
      (h) => ({ ...h, "tandem-origin": "NYC!", "tandem-path": "NYC!" }),
      'tandem-origin "NYC!" is not a site id',
    ],
    [
      "path-empty-segment",
      "tandem-path with an empty site",
      (h) => ({ ...h, "tandem-path": "nyc,,sfo" }),
      "is not a comma-separated list of site ids",
    ],
    [
      "path-repeats-site",
      "tandem-path visiting nyc twice",
      (h) => ({ ...h, "tandem-path": "nyc,sfo,nyc" }),
      "visits a site twice",
    ],
    [
      "path-not-from-origin",
      "tandem-path not starting at the origin",
      (h) => ({ ...h, "tandem-path": "sfo,nyc" }),
      "does not start with the origin",
    ],
    [
      "path-with-dot",
      "tandem-path naming a topic-like site",
      (h) => ({ ...h, "tandem-path": "nyc,lon.calls" }),
      "is not a comma-separated list of site ids",
    ],
  ];
  for (const [id, description, change, reason] of headerCases) {
    const identity = fresh(id);
    add(
      {
        id,
        description,
        site: "nyc",
        value: { kind: "registered", file: validFile, schemaOf: "calls" },
        headers: change(headersOf(identity)),
        expect: bridgeDlq(`malformed tandem headers: .*${reason}`),
      },
      identity,
    );
  }

  // Forged origin or path: never forwarded to a site already visited, and no trace at the target.
  const forged: Array<[string, string, string, string, string]> = [
    ["forged-origin-target", "a record in nyc's own topic claiming to come from lon", "lon", "lon", "cycle"],
    ["path-contains-target", "a path that already contains lon", "nyc", "nyc,lon", "cycle"],
    ["forged-origin-via-target", "origin sfo, already through lon", "sfo", "sfo,lon", "cycle"],
    [
      "forged-origin-unknown-site",
      "origin tok, a site no link carries from",
      "tok",
      "tok",
      "relayed-elsewhere",
    ],
  ];
  for (const [id, description, origin, pathText, skip] of forged) {
    const identity = fresh(id);
    add(
      {
        id,
        description,
        site: "nyc",
        value: { kind: "registered", file: validFile, schemaOf: "calls" },
        headers: headersOf(identity, origin, pathText),
        expect: { outcome: "not-forwarded", skip },
      },
      identity,
    );
  }

  // Filters: a denied tenant or group is skipped by the link.
  const denied = call("denied-tenant", { tenantId: CORPUS_IDS.deniedTenant });
  add(
    {
      id: "denied-tenant",
      description: "a valid call of the tenant the link denies",
      site: "nyc",
      value: {
        kind: "registered",
        file: file("values/denied-tenant.avro", callType.toBuffer(denied)),
        schemaOf: "calls",
      },
      expect: { outcome: "not-forwarded", skip: "filtered-tenant" },
    },
    { ...denied, key: denied.callId },
  );
  const deniedGroup = call("denied-group", { groupId: CORPUS_IDS.deniedGroup });
  add(
    {
      id: "denied-group",
      description: "a valid call of the group the link denies",
      site: "nyc",
      value: {
        kind: "registered",
        file: file("values/denied-group.avro", callType.toBuffer(deniedGroup)),
        schemaOf: "calls",
      },
      expect: { outcome: "not-forwarded", skip: "filtered-group" },
    },
    { ...deniedGroup, key: deniedGroup.callId },
  );
  const disguised = call("denied-tenant-disguised", { tenantId: CORPUS_IDS.deniedTenant });
  add(
    {
      id: "denied-tenant-disguised",
      description: "a call of the denied tenant whose tandem-tenant header names an allowed tenant",
      site: "nyc",
      value: {
        kind: "registered",
        file: file("values/denied-tenant-disguised.avro", callType.toBuffer(disguised)),
        schemaOf: "calls",
      },
      expect: bridgeDlq("filtered link: headers name tenant .* the value tenant"),
    },
    { ...disguised, tenantId: CORPUS_IDS.tenant, key: disguised.callId },
  );

  // Avro bodies that do not decode: forwarded (a bridge does not decode), dead-lettered at lon.
  const corrupt: Array<[string, string, Buffer, string]> = [
    [
      "random-body",
      "4 kB of random bytes as the Avro body",
      seededBytes(1, 4096),
      "^(truncated|invalid-value) at .*Avro body",
    ],
    [
      "truncated-body",
      "the valid body cut in half",
      validBody.subarray(0, validBody.length >> 1),
      "^truncated at .*Avro body",
    ],
    [
      "trailing-garbage",
      "the valid body followed by 16 random bytes",
      Buffer.concat([validBody, seededBytes(2, 16)]),
      "^invalid-value at .*Avro body",
    ],
    [
      "huge-string-length",
      "a body whose first string claims 2^40 bytes",
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x61]),
      "^(truncated|invalid-value) at .*Avro body",
    ],
    [
      "negative-string-length",
      "a body whose first string has length -3",
      Buffer.from([0x05, 0x61, 0x62]),
      "^(truncated|invalid-value) at .*Avro body",
    ],
    [
      "bit-flipped-body",
      "the valid body with every 7th byte inverted",
      Buffer.from(validBody.map((b, i) => (i % 7 === 3 ? b ^ 0xff : b))),
      "^(truncated|invalid-value) at",
    ],
  ];
  for (const [id, description, body, reason] of corrupt) {
    add(
      {
        id,
        description,
        site: "nyc",
        value: { kind: "registered", file: file(`values/${id}.avro`, body), schemaOf: "calls" },
        expect: materializerDlq(reason),
      },
      fresh(id),
    );
  }

  // Valid Avro, invalid content: dead-lettered at lon's materializer.
  invalidCall(
    "call-id-not-uuid",
    "callId 12345",
    { callId: "12345" },
    "invalid-value at .*callId: must be a canonical lowercase UUID",
  );
  invalidCall(
    "tenant-id-traversal",
    "tenantId ../../etc in the value",
    { tenantId: "../../etc" },
    "invalid-value at .*tenantId: must be a canonical lowercase UUID",
  );
  invalidCall(
    "event-id-uppercase",
    "eventId in upper case",
    { eventId: idFor("event-id-uppercase/event").toUpperCase() },
    "eventId: must be a canonical lowercase UUID",
  );
  invalidCall(
    "nil-uuid-call-id",
    "the nil UUID as callId",
    { callId: "00000000-0000-0000-0000-000000000000" },
    "callId: must be a canonical lowercase UUID",
  );
  invalidCall(
    "participant-not-uuid",
    "a participant named instead of identified",
    { participantUserIds: ["alice"] },
    "participantUserIds.0: must be a canonical lowercase UUID",
  );
  invalidCall(
    "origin-site-invalid",
    "originSite NYC",
    { originSite: "NYC" },
    "originSite: must be a site id",
  );
  invalidCall(
    "ended-before-started",
    "endedAtMs before startedAtMs",
    { endedAtMs: STARTED_AT_MS - 1, durationMs: 0 },
    "endedAtMs: must not be before startedAtMs",
  );
  // Valid for the schema and the checks, refused by PostgreSQL: text cannot hold a NUL byte.
  invalidCall(
    "caller-name-nul-byte",
    "a caller name with a NUL byte",
    { caller: { number: "+12125550100", name: "Ann\u0000Lee" } },
    "PostgreSQL refused the event: .*SQLSTATE 22",
  );
  invalidCall(
    "attribute-nul-byte",
    "an attribute value with a NUL byte",
    { attributes: { queue: "sales\u0000" } },
    "PostgreSQL refused the event: .*SQLSTATE 22",
  );
  const traversalKeys: Array<[string, string]> = [
    ["audio-key-parent", "../../../etc/passwd"],
    [
      "audio-key-into-other-tenant",
      `tenants/${CORPUS_IDS.tenant}/../${CORPUS_IDS.deniedTenant}/2026/03/04/x.wav`,
    ],
    ["audio-key-absolute", "/etc/passwd"],
    ["audio-key-backslashes", "tenants\\..\\..\\etc\\passwd"],
    ["audio-key-encoded-dots", "tenants/%2e%2e/%2e%2e/etc/passwd"],
    ["audio-key-dot-segment", `tenants/${CORPUS_IDS.tenant}/./2026/x.wav`],
  ];
  for (const [id, objectKey] of traversalKeys) {
    invalidCall(
      id,
      `audio key ${JSON.stringify(objectKey)}`,
      { audio: audioRef(objectKey) },
      "invalid-value at .*audio.objectKey: must be",
    );
  }
  invalidCall(
    "sha256-uppercase",
    "audio sha256 in upper case",
    {
      audio: {
        ...audioRef(audioObjectKey(CORPUS_IDS.tenant, STARTED_AT_MS, idFor("sha256-uppercase/call"))),
        sha256: AUDIO_SHA256.toUpperCase(),
      },
    },
    "audio.sha256: must be 64 lowercase hex characters",
  );

  // Audio whose sha256 does not match the stored bytes: metadata materialized, audio never accepted.
  const mismatchCall = call("sha256-mismatch");
  const mismatchKey = audioObjectKey(mismatchCall.tenantId, mismatchCall.startedAtMs, mismatchCall.callId);
  const mismatch = { ...mismatchCall, audio: { ...audioRef(mismatchKey), sha256: "0".repeat(63) + "1" } };
  add(
    {
      id: "sha256-mismatch",
      description: "audio stored at nyc whose bytes do not match the event's sha256",
      site: "nyc",
      value: {
        kind: "registered",
        file: file("values/sha256-mismatch.avro", callType.toBuffer(mismatch)),
        schemaOf: "calls",
      },
      audio: { file: file("audio/sample.raw", AUDIO), objectKey: mismatchKey },
      expect: { outcome: "audio-failed", callId: mismatch.callId, reason: "checksum-mismatch" },
    },
    { ...mismatch, key: mismatch.callId },
  );

  // Users.
  const badEmail = user("user-bad-email", {
    fields: { name: "Ada", email: "not-an-email", extensions: null, role: null, active: null },
  });
  const noFields = user("user-upsert-nothing", { changedFields: [] });
  for (const [id, description, event, reason] of [
    [
      "user-bad-email",
      "a user edit with an invalid e-mail",
      badEmail,
      "fields.email: must be an e-mail address",
    ],
    [
      "user-upsert-nothing",
      "an UPSERT naming no field",
      noFields,
      "changedFields: must name at least one field",
    ],
  ] as const) {
    add(
      {
        id,
        description,
        site: "nyc",
        stream: "users",
        value: {
          kind: "registered",
          file: file(`values/${id}.avro`, userType.toBuffer(event)),
          schemaOf: "users",
        },
        expect: materializerDlq(`invalid-value at .*${reason}`),
      },
      { ...event, key: event.userId },
    );
  }

  // Written straight to lon's nyc.* topics, as a rogue or broken bridge would: the materializer's own checks.
  const atLon: Array<[string, string, RecordEntry["value"], string, RecordEntry["stream"]?]> = [
    [
      "lon-wrong-magic-byte",
      "JSON at lon",
      { kind: "raw", file: "values/json-value.bin" },
      "^no-magic-byte at",
    ],
    ["lon-null-value", "a tombstone at lon", { kind: "null" }, "^truncated at .*record has no value"],
    [
      "lon-unknown-schema-id",
      "an unknown schema id at lon",
      { kind: "schema-id", file: validFile, schemaId: 2_147_480_000 },
      "^unknown-schema at .*schema id 2147480000",
    ],
    [
      "lon-random-body",
      "random bytes at lon",
      { kind: "registered", file: "values/random-body.avro", schemaOf: "calls" },
      "^(truncated|invalid-value) at",
    ],
    [
      "lon-audio-key-parent",
      "an audio key with ../ at lon",
      { kind: "registered", file: "values/audio-key-parent.avro", schemaOf: "calls" },
      "audio.objectKey: must be",
    ],
    [
      "lon-oversized-value",
      "an oversized call at lon",
      { kind: "registered", file: "values/oversized-call.avro", schemaOf: "calls" },
      "^invalid-value at .*bytes, more than the 262144-byte limit",
    ],
    [
      "lon-call-on-users-topic",
      "a CallCompleted on lon's nyc.users.changed",
      { kind: "registered", file: validFile, schemaOf: "calls" },
      "^invalid-value at .*is CallCompleted, but nyc.users.changed carries UserChanged",
      "users",
    ],
  ];
  for (const [id, description, value, reason, stream] of atLon) {
    add(
      { id, description, site: "lon", stream: stream ?? "calls", value, expect: materializerDlq(reason) },
      fresh(id),
    );
  }
}

/** Topology mistakes, each as a YAML file with every problem parseTopology must report. */
function generateTopologies(): TopologyEntry[] {
  const site = (id: string): Record<string, unknown> => ({
    id,
    kafka: { brokers: [`kafka.${id}.internal:9092`] },
    registry: { url: `http://registry.${id}.internal:8081` },
    postgres: { connectionString: `postgres://tandem@pg.${id}.internal:5432/tandem` },
    objectStore: { kind: "directory", path: `/srv/${id}/audio` },
  });
  type Doc = { sites: Record<string, unknown>[]; links: Record<string, unknown>[] };
  const base = (): Doc => ({
    sites: [site("nyc"), site("lon")],
    links: [
      { from: "nyc", to: "lon" },
      { from: "lon", to: "nyc" },
    ],
  });
  const out: TopologyEntry[] = [];
  const entry = (
    id: string,
    description: string,
    text: string,
    problems: string[],
    env: Record<string, string> = {},
  ) => out.push({ id, description, file: file(`topologies/${id}.topology`, text), env, problems });
  const mutated = (id: string, description: string, mutate: (doc: Doc) => void, problems: string[]) => {
    const doc = base();
    mutate(doc);
    entry(id, description, stringify(doc), problems);
  };

  entry("empty-document", "an empty file", "", ["the document is empty; declare sites and links"]);
  entry("list-document", "a list instead of a mapping", "- nyc\n- lon\n", ["expected a mapping, got a list"]);
  entry("yaml-syntax-error", "an unclosed bracket", "sites: [nyc, lon\n", [
    "YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]",
  ]);
  entry("duplicate-key", "sites declared twice", "sites: []\nsites: []\nlinks: []\n", ["unique"]);
  mutated("no-sites", "no site", (d) => ((d.sites = []), (d.links = [])), [
    "sites: declare at least one site",
  ]);
  mutated(
    "unknown-site-in-link",
    "a link to an undeclared site",
    (d) => (d.links[0] = { from: "nyc", to: "par" }),
    ['links[0].to: unknown site "par"; declared sites: nyc, lon'],
  );
  mutated(
    "duplicate-site",
    "nyc declared twice",
    (d) => d.sites.push({ ...site("nyc"), kafka: { brokers: ["other:9092"] } }),
    ['sites[2].id: duplicate site id "nyc" (also sites[0])'],
  );
  mutated(
    "site-id-not-slug",
    "a site id with a space",
    (d) => ((d.sites[0]!.id = "New York"), (d.links = [])),
    ["sites[0].id: expected a site id"],
  );
  mutated("site-id-traversal", "a site id with ../", (d) => ((d.sites[0]!.id = "../nyc"), (d.links = [])), [
    "sites[0].id: expected a site id",
  ]);
  mutated(
    "site-id-with-dot",
    "a site id that would split topic names",
    (d) => ((d.sites[0]!.id = "nyc.calls"), (d.links = [])),
    ["sites[0].id: expected a site id"],
  );
  mutated("site-id-reserved", "the site id tandem", (d) => ((d.sites[0]!.id = "tandem"), (d.links = [])), [
    "sites[0].id: is reserved for internal topics",
  ]);
  mutated("link-to-itself", "nyc -> nyc", (d) => (d.links[0] = { from: "nyc", to: "nyc" }), [
    'links[0].to: a link cannot go from "nyc" to itself',
  ]);
  mutated(
    "duplicate-link",
    "nyc -> lon twice",
    (d) => d.links.push({ from: "nyc", to: "lon", streams: ["users"] }),
    ["links[2]: duplicate link nyc -> lon (also links[0])"],
  );
  mutated("unknown-stream", "a voicemail stream", (d) => (d.links[0]!.streams = ["calls", "voicemail"]), [
    'links[0].streams[1]: expected one of "calls", "users", got "voicemail"',
  ]);
  mutated("stream-twice", "users listed twice", (d) => (d.links[0]!.streams = ["users", "users"]), [
    "links[0].streams[1]: users is listed twice",
  ]);
  mutated("unknown-delivery", "at-most-once delivery", (d) => (d.links[0]!.delivery = "at-most-once"), [
    'links[0].delivery: expected one of "at-least-once", "exactly-once", got "at-most-once"',
  ]);
  mutated("unknown-schedule", "a nightly schedule", (d) => (d.links[0]!.schedule = "nightly"), [
    'links[0].schedule.kind: expected one of "continuous", "windows", "periodic", "manual", got "nightly"',
  ]);
  mutated(
    "bad-time-zone",
    "a time zone on Mars",
    (d) =>
      (d.links[0]!.schedule = {
        kind: "windows",
        timeZone: "Mars/Olympus",
        windows: [{ start: "01:00", end: "02:00" }],
      }),
    ["links[0].schedule.timeZone: expected an IANA time zone"],
  );
  mutated(
    "bad-window-times",
    "25:00 and 02:60",
    (d) =>
      (d.links[0]!.schedule = {
        kind: "windows",
        timeZone: "UTC",
        windows: [{ start: "25:00", end: "02:60" }],
      }),
    [
      'links[0].schedule.windows[0].start: expected HH:MM, got "25:00"',
      'links[0].schedule.windows[0].end: expected HH:MM (24:00 for the end of the day), got "02:60"',
    ],
  );
  mutated(
    "empty-window",
    "a window of no length",
    (d) =>
      (d.links[0]!.schedule = {
        kind: "windows",
        timeZone: "UTC",
        windows: [{ start: "02:00", end: "02:00" }],
      }),
    ["links[0].schedule.windows[0].end: equals start"],
  );
  mutated(
    "no-windows",
    "windows without a window",
    (d) => (d.links[0]!.schedule = { kind: "windows", timeZone: "UTC", windows: [] }),
    ["links[0].schedule.windows: list at least one window"],
  );
  mutated(
    "filter-not-uuid",
    "a tenant filter naming a tenant",
    (d) => (d.links[0]!.filters = { tenants: { deny: ["acme", "00000000-0000-0000-0000-000000000000"] } }),
    [
      'links[0].filters.tenants.deny[0]: expected a UUID, got "acme"',
      'links[0].filters.tenants.deny[1]: expected a UUID, got "00000000-0000-0000-0000-000000000000"',
    ],
  );
  mutated(
    "filter-allow-and-deny",
    "a tenant both allowed and denied",
    (d) =>
      (d.links[0]!.filters = {
        tenants: { allow: [CORPUS_IDS.tenant], deny: [CORPUS_IDS.tenant.toUpperCase()] },
      }),
    [`links[0].filters.tenants.deny[0]: ${CORPUS_IDS.tenant} is also in allow`],
  );
  mutated(
    "filter-empty-allow",
    "an allow list admitting nothing",
    (d) => (d.links[0]!.filters = { groups: { allow: [] } }),
    ["links[0].filters.groups.allow: an empty allow list admits nothing"],
  );
  mutated("unknown-link-field", "a misspelt field", (d) => (d.links[0]!.schedual = "manual"), [
    "links[0].schedual: unknown field",
  ]);
  mutated("missing-registry", "a site without registry", (d) => delete d.sites[0]!.registry, [
    "sites[0].registry: required",
  ]);
  mutated("no-brokers", "an empty broker list", (d) => (d.sites[1]!.kafka = { brokers: [] }), [
    "sites[1].kafka.brokers: list at least one broker",
  ]);
  mutated(
    "broker-without-port",
    "a broker without port",
    (d) => (d.sites[0]!.kafka = { brokers: ["kafka.nyc.internal"] }),
    ['sites[0].kafka.brokers[0]: expected host:port, got "kafka.nyc.internal"'],
  );
  mutated(
    "shared-broker",
    "two sites on one cluster",
    (d) => (d.sites[1]!.kafka = { brokers: ["KAFKA.nyc.internal:9092"] }),
    ["sites[1].kafka.brokers[0]: broker also used by site nyc"],
  );
  mutated(
    "unknown-sasl",
    "GSSAPI",
    (d) =>
      (d.sites[0]!.kafka = {
        brokers: ["k:9092"],
        sasl: { mechanism: "gssapi", username: "u", password: "p" },
      }),
    ["sites[0].kafka.sasl.mechanism: expected one of"],
  );
  mutated("registry-not-http", "an ftp registry", (d) => (d.sites[0]!.registry = { url: "ftp://r" }), [
    'sites[0].registry.url: expected an http(s) URL, got "ftp://r"',
  ]);
  mutated(
    "registry-half-credentials",
    "a user without password",
    (d) => (d.sites[0]!.registry = { url: "http://r:8081", username: "u" }),
    ["sites[0].registry.password: required when the other credential is set"],
  );
  mutated(
    "postgres-both-forms",
    "a URL and fields",
    (d) => (d.sites[0]!.postgres = { connectionString: "postgres://pg/db", host: "pg" }),
    ["sites[0].postgres: give either connectionString or host/port/database/user/password, not both"],
  );
  mutated(
    "postgres-port-range",
    "port 70000",
    (d) => (d.sites[0]!.postgres = { host: "pg", port: 70000, database: "d", user: "u" }),
    ["sites[0].postgres.port: expected a port 1-65535, got 70000"],
  );
  mutated(
    "unknown-store-kind",
    "an nfs store",
    (d) => (d.sites[0]!.objectStore = { kind: "nfs", path: "/x" }),
    ['sites[0].objectStore.kind: expected one of "s3", "directory", got "nfs"'],
  );
  mutated(
    "bad-bucket",
    "an invalid bucket name",
    (d) => (d.sites[0]!.objectStore = { kind: "s3", region: "r", bucket: "Audio_Files" }),
    ['sites[0].objectStore.bucket: expected an S3 bucket name, got "Audio_Files"'],
  );
  mutated("mixed-merge-policies", "lww and manual", (d) => (d.sites[1]!.mergePolicy = { kind: "manual" }), [
    "sites[1].mergePolicy: differs from sites[0] (lww)",
  ]);
  mutated(
    "priority-incomplete",
    "a priority order missing lon",
    (d) => d.sites.forEach((s) => (s.mergePolicy = { kind: "priority", siteOrder: ["nyc", "par"] })),
    [
      'sites[0].mergePolicy.siteOrder[1]: unknown site "par"',
      "sites[0].mergePolicy.siteOrder: must rank every site; missing lon",
      'sites[1].mergePolicy.siteOrder[1]: unknown site "par"',
      "sites[1].mergePolicy.siteOrder: must rank every site; missing lon",
    ],
  );
  mutated(
    "missing-variable",
    "a password from an unset variable",
    (d) =>
      (d.sites[0]!.registry = { url: "http://r:8081", username: "u", password: "${TANDEM_CORPUS_UNSET}" }),
    ["sites[0].registry.password: environment variable TANDEM_CORPUS_UNSET is not set"],
  );
  return out;
}

async function main(): Promise<void> {
  const generated = await generatedFiles();
  for (const dir of ["values", "topologies", "audio"])
    fs.rmSync(path.join(CORPUS_DIR, dir), { recursive: true, force: true });
  for (const [name, content] of generated) {
    const target = path.join(CORPUS_DIR, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
  const bytes = [...generated.values()].reduce((sum, c) => sum + Buffer.byteLength(c), 0);
  process.stdout.write(`${entries.length} record entries, ${generated.size} files, ${bytes} bytes\n`);
}

/** The files the generator writes, by name, without writing them: a test compares them with the committed ones. */
export async function generatedFiles(): Promise<Map<string, Buffer | string>> {
  files.clear();
  entries.length = 0;
  generateRecords();
  const topologies = generateTopologies();
  // Formatted as the repository's prettier check wants them.
  const json = async (name: string, value: unknown) => {
    const filepath = path.join(CORPUS_DIR, name);
    const options = await resolveConfig(filepath);
    files.set(name, await format(JSON.stringify(value), { ...options, filepath }));
  };
  await json("records.json", entries);
  await json("topologies.json", topologies);
  return new Map(files);
}

if (process.argv[1] === import.meta.filename) await main();
