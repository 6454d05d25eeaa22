import avro from "avsc";
import { describe, expect, it } from "vitest";
import {
  LEADING_IDENTITY_FIELDS,
  callCompletedSchema,
  peekIdentities,
  userChangedSchema,
  type AvroRecordSchema,
} from "@tandem/events";
import { sampleCall, sampleUser } from "./fixtures";

function wire(schema: AvroRecordSchema, event: unknown, schemaId = 7): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, avro.Type.forSchema(schema as avro.Schema).toBuffer(event)]);
}

describe("peeking at an event's identities without a registry", () => {
  it("keeps both schemas' leading fields in the order the peek reads", () => {
    for (const schema of [callCompletedSchema, userChangedSchema]) {
      const names = schema.fields.slice(0, 4).map((f) => f.name);
      LEADING_IDENTITY_FIELDS.forEach((expected, i) =>
        expect(typeof expected === "string" ? [expected] : expected).toContain(names[i]),
      );
    }
  });

  it("reads tenant and group from a call and from a user change", () => {
    const call = sampleCall();
    expect(peekIdentities(wire(callCompletedSchema, call))).toEqual({
      eventId: call.eventId,
      tenantId: call.tenantId,
      groupId: call.groupId,
    });
    const user = sampleUser();
    expect(peekIdentities(wire(userChangedSchema, user))?.tenantId).toBe(user.tenantId);
  });

  it("gives nothing for bytes that are not an event", () => {
    expect(peekIdentities(null)).toBeUndefined();
    expect(peekIdentities(Buffer.from("not avro"))).toBeUndefined();
    expect(peekIdentities(wire(callCompletedSchema, sampleCall()).subarray(0, 30))).toBeUndefined();
  });
});
