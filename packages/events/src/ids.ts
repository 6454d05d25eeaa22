/**
 * Identifier formats shared by events, headers and object keys.
 *
 * UUIDs must be in canonical form (lowercase, hyphenated, RFC 9562 version 1-8 and variant bits): the
 * same id is compared as a string in Kafka keys, headers and object keys, so two spellings of one UUID
 * would break idempotency. The nil and max UUIDs are refused: they never identify anything.
 */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Site ids are short slugs: they appear in topic names (`<site>.calls.completed`) and headers. */
export const SITE_ID_PATTERN = /^[a-z][a-z0-9-]{1,30}$/;

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID_PATTERN.test(value);
}

export function isSiteId(value: unknown): value is string {
  return typeof value === "string" && SITE_ID_PATTERN.test(value);
}
