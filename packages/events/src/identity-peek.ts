import { parseWireFormat, WIRE_HEADER_BYTES } from "./wire-format";

/**
 * Both events begin with the same four string fields: event id, call or user id, tenant id, group id
 * (a test keeps the schemas to it). Reading them needs no registry and no full decode, so a bridge can
 * check the tenant and group headers it filters on against the value itself.
 */
export const LEADING_IDENTITY_FIELDS = ["eventId", ["callId", "userId"], "tenantId", "groupId"] as const;

export interface PeekedIdentities {
  eventId: string;
  tenantId: string;
  groupId: string;
}

/** Reads an Avro long (zigzag varint) at `offset`; undefined when the bytes end first. */
function readLong(buffer: Buffer, offset: number): { value: number; next: number } | undefined {
  let result = 0;
  let shift = 0;
  for (let i = offset; i < buffer.length && shift < 63; i++) {
    const byte = buffer[i]!;
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value: result % 2 === 0 ? result / 2 : -(result + 1) / 2, next: i + 1 };
    shift += 7;
  }
  return undefined;
}

function readString(buffer: Buffer, offset: number): { value: string; next: number } | undefined {
  const length = readLong(buffer, offset);
  if (length === undefined || length.value < 0 || length.next + length.value > buffer.length)
    return undefined;
  return {
    value: buffer.toString("utf8", length.next, length.next + length.value),
    next: length.next + length.value,
  };
}

/** The identities a wire-format event value carries; undefined when it is not one. */
export function peekIdentities(value: Buffer | null): PeekedIdentities | undefined {
  if (value === null || !parseWireFormat(value).ok) return undefined;
  const fields: string[] = [];
  let offset = WIRE_HEADER_BYTES;
  for (let i = 0; i < LEADING_IDENTITY_FIELDS.length; i++) {
    const field = readString(value, offset);
    if (field === undefined) return undefined;
    fields.push(field.value);
    offset = field.next;
  }
  return { eventId: fields[0]!, tenantId: fields[2]!, groupId: fields[3]! };
}
