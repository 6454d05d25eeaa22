import { createHash } from "node:crypto";
import type { Message } from "kafkajs";
import { buildHeaders, MAGIC_BYTE, WIRE_HEADER_BYTES } from "@tandem/events";

/** Size of every record value, wire-format prefix included. */
export const VALUE_BYTES = 1024;
const TENANTS = 4;
const GROUPS_PER_TENANT = 2;

/** A canonical version-4-shaped UUID derived from a label, so that every run writes the same records. */
export function stableUuid(label: string): string {
  const bytes = createHash("sha256").update(label).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** 64 KiB of pseudo-random filler, sliced per record: values are opaque and incompressible. */
const FILLER = (() => {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < 65_536; i++)
    blocks.push(createHash("sha256").update(`fill${i}`).digest());
  return Buffer.concat(blocks);
})();

/**
 * Record `index` of a series: a call UUID key, the Tandem headers of an event that originated at `origin`,
 * and a 1 KiB value in the Confluent wire format (magic byte and `schemaId`, then opaque bytes standing in
 * for the Avro body: neither mirror decodes the body, the bridge only rewrites the schema id).
 */
export function benchRecord(series: string, index: number, origin: string, schemaId: number): Message {
  const tenant = index % TENANTS;
  const group = Math.floor(index / TENANTS) % GROUPS_PER_TENANT;
  const value = Buffer.allocUnsafe(VALUE_BYTES);
  value[0] = MAGIC_BYTE;
  value.writeUInt32BE(schemaId, 1);
  const bodyBytes = VALUE_BYTES - WIRE_HEADER_BYTES;
  const start = (index * 977) % (FILLER.length - bodyBytes);
  FILLER.copy(value, WIRE_HEADER_BYTES, start, start + bodyBytes);
  return {
    key: stableUuid(`${series}:call:${index}`),
    value,
    headers: buildHeaders({
      eventId: stableUuid(`${series}:event:${index}`),
      origin,
      tenantId: stableUuid(`tenant:${tenant}`),
      groupId: stableUuid(`group:${tenant}:${group}`),
    }),
  };
}

/** Key and value bytes of a record, the payload both mirrors copy (headers excluded). */
export function payloadBytes(message: Message): number {
  const key = message.key === null || message.key === undefined ? 0 : Buffer.byteLength(message.key);
  const value = message.value === null || message.value === undefined ? 0 : Buffer.byteLength(message.value);
  return key + value;
}
