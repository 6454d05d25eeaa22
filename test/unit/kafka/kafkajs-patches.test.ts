import fc from "fast-check";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

// patches/kafkajs+2.2.4.patch changes how kafkajs encodes and decodes records, to allocate less per record.
const require = createRequire(import.meta.url);
const Encoder = require("kafkajs/src/protocol/encoder");
const Decoder = require("kafkajs/src/protocol/decoder");
const encodeRecord = require("kafkajs/src/protocol/recordBatch/record/v0");
const decodeRecord = require("kafkajs/src/protocol/recordBatch/record/v0/decoder");
const encodeHeader = require("kafkajs/src/protocol/recordBatch/header/v0");
const groupMessagesPerPartition = require("kafkajs/src/producer/groupMessagesPerPartition");

/** Kafka's varint: zigzag, then 7 bits per byte, least significant first (the protocol's definition). */
function referenceVarInt(value: number): Buffer {
  let rest = ((value << 1) ^ (value >> 31)) >>> 0;
  const bytes: number[] = [];
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

describe("kafkajs as patched", () => {
  it("writes every 32-bit varint as the protocol defines it, and reads it back", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (value) => {
        const written: Buffer = new Encoder().writeInt8(7).writeVarInt(value).buffer;
        expect(written.subarray(1)).toEqual(referenceVarInt(value));
        const decoder = new Decoder(written);
        decoder.readInt8();
        expect(decoder.readVarInt()).toBe(value);
      }),
    );
  });

  it("writes a varint across the end of the encoder's buffer", () => {
    const encoder = new Encoder(1);
    for (let i = 0; i < 1000; i++) encoder.writeVarInt(-(2 ** 31) + i);
    const decoder = new Decoder(encoder.buffer);
    for (let i = 0; i < 1000; i++) expect(decoder.readVarInt()).toBe(-(2 ** 31) + i);
  });

  it("encodes a record with headers that decodes to the same key, value and headers", () => {
    const headers = {
      "tandem-event-id": Buffer.from("0b0e8e55-3f34-4b8c-9b1b-6a1b5f2d2c11"),
      "tandem-path": "nyc,lon",
      repeated: [Buffer.from("a"), Buffer.from("b")],
    };
    Object.defineProperty(headers, "__proto__", {
      value: Buffer.from("kept as a header"),
      enumerable: true,
    });
    const value = Buffer.alloc(1500, 0x5a);
    const encoded: Buffer = encodeRecord({
      offsetDelta: 3,
      timestampDelta: 12,
      key: Buffer.from("call-1"),
      value,
      headers,
    }).buffer;

    const decoder = new Decoder(encoded);
    decoder.readVarInt();
    const record = decodeRecord(decoder, { firstOffset: "100", firstTimestamp: "1000", magicByte: 2 });

    expect(record.offset).toBe("103");
    expect(record.timestamp).toBe("1012");
    expect(record.key.toString()).toBe("call-1");
    expect(Buffer.compare(record.value, value)).toBe(0);
    expect(Object.getPrototypeOf(record.headers)).toBe(Object.prototype);
    expect(Object.keys(record.headers)).toEqual(["tandem-event-id", "tandem-path", "repeated", "__proto__"]);
    expect(record.headers["tandem-path"].toString()).toBe("nyc,lon");
    expect(record.headers.repeated.map(String)).toEqual(["a", "b"]);
    expect(Object.getOwnPropertyDescriptor(record.headers, "__proto__")?.value.toString()).toBe(
      "kept as a header",
    );
  });

  it("reads a header named after an Object method as that header alone", () => {
    const encoded: Buffer = encodeRecord({ key: null, value: null, headers: { toString: "x" } }).buffer;
    const decoder = new Decoder(encoded);
    decoder.readVarInt();
    const { headers } = decodeRecord(decoder, { firstOffset: "0", firstTimestamp: "0", magicByte: 2 });
    expect(Object.getOwnPropertyDescriptor(headers, "toString")?.value.toString()).toBe("x");
  });

  it("sizes a header's encoder to the header, not to a default of 512 bytes per header", () => {
    const encoder = encodeHeader({ key: "tandem-origin", value: Buffer.from("nyc") });
    expect(encoder.buffer.length).toBe(1 + 13 + 1 + 3);
    expect(encoder.buf.length).toBeLessThan(64);
  });

  it("groups messages by partition, keeping each partition's order", () => {
    const messages = Array.from({ length: 3000 }, (_, i) => ({ partition: i % 3, value: String(i) }));
    const grouped = groupMessagesPerPartition({
      topic: "t",
      partitionMetadata: [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }],
      messages,
      partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    });
    expect(Object.keys(grouped)).toEqual(["0", "1", "2"]);
    for (const partition of [0, 1, 2]) {
      expect(grouped[partition].map((m: { value: string }) => Number(m.value))).toEqual(
        Array.from({ length: 1000 }, (_, i) => i * 3 + partition),
      );
    }
    expect(groupMessagesPerPartition({ topic: "t", partitionMetadata: [], messages })).toEqual({});
  });
});
