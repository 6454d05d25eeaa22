import { describe, expect, it } from "vitest";
import { WireFormatError, parseWireFormat, schemaIdOf, withSchemaId } from "@tandem/events";

const encoded = Buffer.from([0, 0, 0, 1, 2, 0xaa, 0xbb, 0xcc]);

describe("wire format", () => {
  it("reads the big-endian schema id and the body", () => {
    expect(schemaIdOf(encoded)).toBe(258);
    expect(parseWireFormat(encoded)).toEqual({
      ok: true,
      schemaId: 258,
      body: Buffer.from([0xaa, 0xbb, 0xcc]),
    });
  });

  it("rewrites the schema id into a copy, leaving the body and the input untouched", () => {
    const rewritten = withSchemaId(encoded, 70_000);
    expect(schemaIdOf(rewritten)).toBe(70_000);
    expect(rewritten.subarray(5)).toEqual(encoded.subarray(5));
    expect(schemaIdOf(encoded)).toBe(258);
  });

  it("refuses a value without the magic byte and a value shorter than the header", () => {
    expect(() => schemaIdOf(Buffer.from("{}"))).toThrow(expect.objectContaining({ kind: "no-magic-byte" }));
    expect(() => schemaIdOf(Buffer.from([0, 0, 1]))).toThrow(expect.objectContaining({ kind: "truncated" }));
    expect(() => schemaIdOf(Buffer.alloc(0))).toThrow(WireFormatError);
    expect(() => withSchemaId(Buffer.from([7, 0, 0, 0, 1]), 2)).toThrow(WireFormatError);
  });

  it.each([-1, 1.5, 2 ** 31])("refuses the schema id %s", (id) => {
    expect(() => withSchemaId(encoded, id)).toThrow(RangeError);
  });
});
