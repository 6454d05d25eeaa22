/**
 * Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro body.
 * Bridges use these helpers to rewrite the schema id between registries without decoding the body.
 */
import { PermanentError } from "@tandem/runtime";

export const MAGIC_BYTE = 0;
export const WIRE_HEADER_BYTES = 5;
const MAX_SCHEMA_ID = 2 ** 31 - 1;

/**
 * Largest record value Tandem writes, forwards or decodes. An event is metadata (audio travels by claim
 * check), a few kB; the limit stays far below the brokers' default 1 MiB, so that a poison record can
 * still be dead-lettered and a path header growing at each hop never makes a record too large.
 */
export const MAX_EVENT_VALUE_BYTES = 256 * 1024;

/** Why a value is refused for its size, or undefined when it is within the limit. */
export function oversizedProblem(value: Buffer | null): string | undefined {
  if (value === null || value.length <= MAX_EVENT_VALUE_BYTES) return undefined;
  return `value of ${value.length} bytes, more than the ${MAX_EVENT_VALUE_BYTES}-byte limit of an event`;
}

export type WireFormatProblem = "no-magic-byte" | "truncated";

export type WireFormatParse =
  { ok: true; schemaId: number; body: Buffer } | { ok: false; kind: WireFormatProblem; problem: string };

export class WireFormatError extends PermanentError {
  constructor(
    readonly kind: WireFormatProblem,
    problem: string,
  ) {
    super(problem);
    this.name = "WireFormatError";
  }
}

export function parseWireFormat(buffer: Buffer): WireFormatParse {
  if (buffer.length === 0) {
    return { ok: false, kind: "truncated", problem: "empty value" };
  }
  if (buffer[0] !== MAGIC_BYTE) {
    return {
      ok: false,
      kind: "no-magic-byte",
      problem: `first byte is 0x${buffer[0]?.toString(16).padStart(2, "0")}, expected 0x00`,
    };
  }
  if (buffer.length < WIRE_HEADER_BYTES) {
    return {
      ok: false,
      kind: "truncated",
      problem: `value has ${buffer.length} bytes, shorter than the 5-byte header`,
    };
  }
  return { ok: true, schemaId: buffer.readInt32BE(1), body: buffer.subarray(WIRE_HEADER_BYTES) };
}

/** The schema id of an encoded value; throws WireFormatError if the value is not in the wire format. */
export function schemaIdOf(buffer: Buffer): number {
  const parsed = parseWireFormat(buffer);
  if (!parsed.ok) throw new WireFormatError(parsed.kind, parsed.problem);
  return parsed.schemaId;
}

/** A copy of an encoded value with its schema id replaced; the Avro body is untouched. */
export function withSchemaId(buffer: Buffer, schemaId: number): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > MAX_SCHEMA_ID) {
    throw new RangeError(`schema id ${schemaId} does not fit the wire format (0..${MAX_SCHEMA_ID})`);
  }
  const parsed = parseWireFormat(buffer);
  if (!parsed.ok) throw new WireFormatError(parsed.kind, parsed.problem);
  const copy = Buffer.from(buffer);
  copy.writeInt32BE(schemaId, 1);
  return copy;
}
