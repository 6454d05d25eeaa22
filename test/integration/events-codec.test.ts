import { randomUUID } from "node:crypto";
import { COMPATIBILITY, SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { beforeAll, describe, expect, it } from "vitest";
import {
  DecodeError,
  EventCodec,
  RegistryError,
  SchemaRegistrationError,
  callCompletedSchema,
  schemaIdOf,
  subjectFor,
  withSchemaId,
} from "@tandem/events";
import type { AvroRecordSchema, CallCompleted, UserChanged } from "@tandem/events";
import { SchemaTranslator } from "../../services/bridge/src/link/schema-translator";
import { startHttpFaultProxy } from "../support/http-fault-proxy";
import { stack } from "../support/stack";

const { sites } = await stack();
const [home, away] = sites;
if (home === undefined) throw new Error("the stack has no site");

// Topics look like remote topics of a throwaway site, so every run uses fresh subjects.
const run = `it-${randomUUID().slice(0, 8)}`;
const topics = {
  calls: `${run}.calls.completed`,
  users: `${run}.users.changed`,
  evolving: `${run}x.calls.completed`,
};
const at = (topic: string, offset = 0) => ({ topic, partition: 0, offset: String(offset) });

function call(): CallCompleted {
  const tenantId = randomUUID();
  const callId = randomUUID();
  return {
    eventId: randomUUID(),
    callId,
    tenantId,
    groupId: randomUUID(),
    participantUserIds: [randomUUID(), randomUUID()],
    originSite: "nyc",
    recorderId: "rec-nyc-01",
    direction: "OUTBOUND",
    caller: { number: "2001", name: "Bob Agent" },
    callee: { number: "+15551230000", name: null },
    startedAtMs: 1_700_000_000_000,
    endedAtMs: 1_700_000_042_000,
    durationMs: 42_000,
    audio: {
      objectKey: `tenants/${tenantId}/2023/11/14/${callId}.wav`,
      sizeBytes: 672_044,
      sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      contentType: "audio/wav",
      codec: "pcm_s16le",
      channels: 1,
      sampleRateHz: 8000,
    },
    attributes: { queue: "sales" },
  };
}

function user(): UserChanged {
  return {
    eventId: randomUUID(),
    userId: randomUUID(),
    tenantId: randomUUID(),
    groupId: randomUUID(),
    operation: "UPSERT",
    changedFields: ["email", "extensions", "active"],
    fields: { name: null, email: "bob@example.com", extensions: ["2001"], role: null, active: false },
    hlc: { wallTimeMs: 1_700_000_000_123, logical: 4 },
    baseVersion: {
      nyc: { wallTimeMs: 1_700_000_000_000, logical: 0 },
      lon: { wallTimeMs: 1_699_000_000_000, logical: 2 },
    },
    originSite: "nyc",
  };
}

/** CallCompleted with one more field; `field` decides whether the change is compatible. */
function callSchemaWith(field: AvroRecordSchema["fields"][number]): AvroRecordSchema {
  return { ...callCompletedSchema, fields: [...callCompletedSchema.fields, field] };
}

const optionalField = {
  name: "transcriptLanguage",
  type: ["null", "string"],
  default: null,
  doc: "Language of the transcript, when one exists.",
};
const requiredField = {
  name: "priority",
  type: "int",
  doc: "Queue priority; no default, so old records cannot be read.",
};

let codec: EventCodec;
let registry: SchemaRegistry;

beforeAll(() => {
  codec = new EventCodec({ host: home.registry.url });
  registry = new SchemaRegistry({ host: home.registry.url });
});

describe("round trip through the registry", () => {
  it("encodes and decodes a CallCompleted exactly", async () => {
    const event = call();
    const encoded = await codec.encode(topics.calls, event);
    expect(schemaIdOf(encoded)).toBe(await codec.register(topics.calls));
    expect(await codec.decode(encoded, at(topics.calls))).toStrictEqual({ kind: "CallCompleted", event });
  });

  it("encodes and decodes a UserChanged exactly, including a delete", async () => {
    const upsert = user();
    const deletion: UserChanged = {
      ...user(),
      operation: "DELETE",
      changedFields: [],
      fields: { name: null, email: null, extensions: null, role: null, active: null },
      baseVersion: {},
    };
    for (const event of [upsert, deletion]) {
      const encoded = await codec.encode(topics.users, event);
      expect(await codec.decode(encoded, at(topics.users))).toStrictEqual({ kind: "UserChanged", event });
    }
  });

  it("registers under <topic>-value with BACKWARD compatibility, idempotently", async () => {
    const id = await codec.register(topics.calls);
    expect(await new EventCodec({ host: home.registry.url }).register(topics.calls)).toBe(id);
    expect(await registry.getLatestSchemaId(subjectFor(topics.calls))).toBe(id);
    const response = await fetch(
      `${home.registry.url}/config/${encodeURIComponent(subjectFor(topics.calls))}`,
    );
    expect(await response.json()).toMatchObject({ compatibilityLevel: COMPATIBILITY.BACKWARD });
  });

  it("registers a new subject from many clients at once: all get the same id, none fails", async () => {
    // Every client finds no compatibility on the new subject and sets it; Apicurio refuses all but the
    // first with a 409. The window is narrow, so the race is run on several fresh subjects.
    for (let round = 0; round < 10; round++) {
      const topic = `${run}race${round}.users.changed`;
      const clients = Array.from({ length: 8 }, () => new EventCodec({ host: home.registry.url }));
      const ids = await Promise.all(clients.map((client) => client.register(topic)));
      expect(new Set(ids).size).toBe(1);
      expect(await registry.getLatestSchemaId(subjectFor(topic))).toBe(ids[0]);
    }
  });

  it("decodes with another registry once the bridge has rewritten the schema id", async () => {
    const target = away ?? home;
    const event = call();
    const encoded = await codec.encode(topics.calls, event);
    const targetCodec = new EventCodec({ host: target.registry.url });
    const targetId = await targetCodec.register(topics.calls);
    const translated = withSchemaId(encoded, targetId);
    expect(translated.subarray(5)).toEqual(encoded.subarray(5));
    expect(await targetCodec.decode(translated, at(topics.calls))).toStrictEqual({
      kind: "CallCompleted",
      event,
    });
  });
});

describe("a registry failing while a new subject is created", () => {
  const levelOf = async (topic: string, registryUrl = home.registry.url) =>
    (await fetch(`${registryUrl}/config/${encodeURIComponent(subjectFor(topic))}`)).json();
  const settingTheLevel = (method: string, path: string) => method === "PUT" && path.includes("/config/");

  it("a writer whose setting of the level fails leaves no subject that refuses the next writer", async () => {
    const proxy = await startHttpFaultProxy(home.registry.url);
    try {
      const topic = `${run}lvl.calls.completed`;
      proxy.failNext(settingTheLevel, 503);
      await expect(new EventCodec({ host: proxy.url }).register(topic)).rejects.toThrow(RegistryError);
      const id = await new EventCodec({ host: home.registry.url }).register(topic);
      expect(await registry.getLatestSchemaId(subjectFor(topic))).toBe(id);
      expect(await levelOf(topic)).toMatchObject({ compatibilityLevel: COMPATIBILITY.BACKWARD });
    } finally {
      await proxy.close();
    }
  });

  it("a bridge whose setting of the level at the target fails retries, and leaves no subject without it", async () => {
    const target = away ?? home;
    const proxy = await startHttpFaultProxy(target.registry.url);
    try {
      const sourceTopic = `${run}src.calls.completed`;
      const targetTopic = `${run}lvl-bridge.calls.completed`;
      const encoded = await codec.encode(sourceTopic, call());
      const translator = new SchemaTranslator({ url: home.registry.url }, { url: proxy.url });
      proxy.failNext(settingTheLevel, 503);
      await expect(translator.translate(encoded, targetTopic)).rejects.toThrow(/HTTP 503/);
      const translated = await translator.translate(encoded, targetTopic);
      const targetCodec = new EventCodec({ host: target.registry.url });
      expect(schemaIdOf(translated!)).toBe(await targetCodec.register(targetTopic));
      expect(await levelOf(targetTopic, target.registry.url)).toMatchObject({
        compatibilityLevel: COMPATIBILITY.BACKWARD,
      });
    } finally {
      await proxy.close();
    }
  });

  it("a subject another tool created without a level is refused with the way to fix it", async () => {
    const topic = `${run}nolevel.calls.completed`;
    const response = await fetch(`${home.registry.url}/subjects/${subjectFor(topic)}/versions`, {
      method: "POST",
      headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
      body: JSON.stringify({ schema: JSON.stringify(callCompletedSchema) }),
    });
    expect(response.ok).toBe(true);
    const refusal = new EventCodec({ host: home.registry.url }).register(topic);
    await expect(refusal).rejects.toThrow(SchemaRegistrationError);
    await expect(refusal).rejects.toThrow(`PUT /config/${subjectFor(topic)} {"compatibility":"BACKWARD"}`);
  });
});

describe("schema evolution", () => {
  const v2 = callSchemaWith(optionalField);
  let v1Id: number;
  let v2Id: number;

  beforeAll(async () => {
    v1Id = await codec.register(topics.evolving);
    v2Id = await new EventCodec({ host: home.registry.url, writerSchemas: { CallCompleted: v2 } }).register(
      topics.evolving,
    );
  });

  it("registers a v2 with a new optional field as a new version", () => {
    expect(v2Id).not.toBe(v1Id);
  });

  it("lets the v1 reader decode a record written with v2", async () => {
    const event = call();
    const written = await registry.encode(v2Id, { ...event, transcriptLanguage: "en" });
    expect(schemaIdOf(written)).toBe(v2Id);
    expect(await codec.decode(written, at(topics.evolving))).toStrictEqual({ kind: "CallCompleted", event });
  });

  it("lets the v2 reader decode a record written with v1, filling the default", async () => {
    const event = call();
    const written = await codec.encode(topics.evolving, event);
    expect(schemaIdOf(written)).toBe(v1Id);
    const read = await registry.decode(written, { AVRO: { readerSchema: v2 } });
    expect({ ...read }).toMatchObject({ callId: event.callId, transcriptLanguage: null });
  });

  it("writes with v2 when rolled out ahead of the code, and the v1 reader still decodes", async () => {
    const event = call();
    const v2Codec = new EventCodec({ host: home.registry.url, writerSchemas: { CallCompleted: v2 } });
    const written = await v2Codec.encode(topics.evolving, event);
    expect(schemaIdOf(written)).toBe(v2Id);
    expect(await registry.decode(written)).toMatchObject({ transcriptLanguage: null });
    expect(await codec.decode(written, at(topics.evolving))).toStrictEqual({ kind: "CallCompleted", event });
  });

  it("refuses an incompatible change with an error naming the subject and the reason", async () => {
    const v3 = callSchemaWith(requiredField);
    const attempt = new EventCodec({
      host: home.registry.url,
      writerSchemas: { CallCompleted: v3 },
    }).register(topics.evolving);
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaRegistrationError);
    expect(error).toMatchObject({ kind: "incompatible", subject: subjectFor(topics.evolving) });
    expect((error as Error).message).toMatch(/not BACKWARD compatible/);
    expect(await registry.getLatestSchemaId(subjectFor(topics.evolving))).toBe(v2Id);
  });
});

describe("bad input", () => {
  const expectDecodeError = async (value: Buffer, kind: string, offset: number) => {
    const error = await codec.decode(value, at(topics.calls, offset)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect(error).toMatchObject({ kind, topic: topics.calls, partition: 0, offset: String(offset) });
    return error as DecodeError;
  };

  it("no-magic-byte: a value that is not in the wire format", async () => {
    await expectDecodeError(Buffer.from(JSON.stringify(call())), "no-magic-byte", 1);
  });

  it("unknown-schema: a schema id the registry does not know", async () => {
    const encoded = await codec.encode(topics.calls, call());
    const error = await expectDecodeError(withSchemaId(encoded, 2 ** 31 - 1), "unknown-schema", 2);
    expect(error.schemaId).toBe(2 ** 31 - 1);
  });

  it("unknown-schema: a schema id of something that is not a Tandem event", async () => {
    const { id } = await registry.register(
      {
        type: "record",
        name: "Invoice",
        namespace: "io.example",
        fields: [{ name: "amount", type: "long" }],
      },
      { subject: `${run}.invoices-value`, compatibility: COMPATIBILITY.BACKWARD },
    );
    const foreign = await registry.encode(id, { amount: 12 });
    const error = await expectDecodeError(foreign, "unknown-schema", 3);
    expect(error.message).toContain("io.example.Invoice");
  });

  it("truncated: a header cut short and an Avro body cut short", async () => {
    const encoded = await codec.encode(topics.calls, call());
    await expectDecodeError(encoded.subarray(0, 3), "truncated", 4);
    await expectDecodeError(encoded.subarray(0, encoded.length - 20), "truncated", 5);
  });

  it("invalid-value: bytes after the Avro body", async () => {
    const encoded = await codec.encode(topics.calls, call());
    await expectDecodeError(Buffer.concat([encoded, Buffer.from([2])]), "invalid-value", 6);
  });

  it("invalid-value: a well-formed Avro record that fails event validation", async () => {
    const id = await codec.register(topics.calls);
    const forged = await registry.encode(id, { ...call(), callId: "../../etc/passwd" });
    const error = await expectDecodeError(forged, "invalid-value", 7);
    expect(error.issues).toEqual([{ path: "callId", problem: "must be a canonical lowercase UUID" }]);
  });
});
