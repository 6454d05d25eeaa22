import { UsageError } from "../../errors";

/**
 * The manifest fields `tandem import` reads, each with the columns it is looked up in when `--map`
 * does not name one: the field's own name first, then the dotted path of a JSON line shaped like
 * `tandem publish`'s call.json (nested objects are flattened to `caller.number`, `audio.codec`, ...).
 */
export const FIELDS = {
  id: ["id", "callId"],
  audio: ["audio", "audioFile", "file"],
  tenantId: ["tenantId"],
  groupId: ["groupId"],
  participantUserIds: ["participantUserIds"],
  recorderId: ["recorderId"],
  direction: ["direction"],
  callerNumber: ["callerNumber", "caller.number"],
  callerName: ["callerName", "caller.name"],
  calleeNumber: ["calleeNumber", "callee.number"],
  calleeName: ["calleeName", "callee.name"],
  startedAt: ["startedAt", "startedAtMs"],
  endedAt: ["endedAt", "endedAtMs"],
  durationMs: ["durationMs"],
  durationSeconds: ["durationSeconds"],
  contentType: ["contentType", "audio.contentType"],
  codec: ["codec", "audio.codec"],
  channels: ["channels", "audio.channels"],
  sampleRateHz: ["sampleRateHz", "audio.sampleRateHz"],
} as const satisfies Record<string, readonly string[]>;

export type Field = keyof typeof FIELDS;

const FIELD_NAMES = Object.keys(FIELDS) as Field[];

/** `--map field=column` (where a field is read) and `--set field=value` (one value for every row). */
export interface Mapping {
  columns: Partial<Record<Field, string>>;
  constants: Partial<Record<Field, string>>;
}

/** Where a field's value came from, for a reason that names what the operator can fix. */
export type Source = { column: string } | { constant: string } | undefined;

/** The `--map` and `--set` flags; a field named twice or unknown is a usage error. */
export function parseMapping(maps: string[], sets: string[]): Mapping {
  const mapping: Mapping = { columns: {}, constants: {} };
  const pairs = [
    ...maps.map((text) => ({ text, flag: "--map", into: mapping.columns })),
    ...sets.map((text) => ({ text, flag: "--set", into: mapping.constants })),
  ];
  for (const { text, flag, into } of pairs) {
    const equals = text.indexOf("=");
    const field = text.slice(0, equals) as Field;
    const value = text.slice(equals + 1);
    if (equals <= 0 || (flag === "--map" && value === "")) {
      throw new UsageError(`${flag} ${text}: expected field=${flag === "--map" ? "column" : "value"}`);
    }
    if (!FIELD_NAMES.includes(field)) {
      throw new UsageError(`${flag} ${text}: unknown field ${field} (fields: ${FIELD_NAMES.join(", ")})`);
    }
    if (mapping.columns[field] !== undefined || mapping.constants[field] !== undefined) {
      throw new UsageError(`${flag} ${text}: ${field} is already mapped or set`);
    }
    into[field] = value;
  }
  return mapping;
}

/** A `--map` naming a column the CSV header does not have: the typo is found before any row is read. */
export function unknownMappedColumn(mapping: Mapping, header: string[]): string | undefined {
  for (const [field, column] of Object.entries(mapping.columns)) {
    if (!header.includes(column)) {
      return `--map ${field}=${column}: the manifest has no column ${column} (columns: ${header.join(", ")})`;
    }
  }
  return undefined;
}

/**
 * Reads a row through the mapping: each field's value (an empty string or null counts as absent), where
 * it came from, and the columns no field reads (kept as the call's attributes, so nothing the archive
 * knew is lost).
 */
export function readRow(
  values: Record<string, unknown>,
  mapping: Mapping,
): {
  value: (field: Field) => unknown;
  source: (field: Field) => Source;
  unused: Array<[string, unknown]>;
} {
  const sources = new Map<Field, Source>();
  for (const field of FIELD_NAMES) {
    const constant = mapping.constants[field];
    if (constant !== undefined) {
      sources.set(field, { constant });
      continue;
    }
    const column = mapping.columns[field] ?? FIELDS[field].find((c) => present(values[c]));
    if (column !== undefined) sources.set(field, { column });
  }
  // A column named like a field is that field's, even when --map or --set reads the field elsewhere.
  const used = new Set([
    ...Object.values(FIELDS).flat(),
    ...[...sources.values()].flatMap((s) => (s && "column" in s ? [s.column] : [])),
  ]);
  return {
    value: (field) => {
      const source = sources.get(field);
      if (source === undefined) return undefined;
      const value = "constant" in source ? source.constant : values[source.column];
      return present(value) ? value : undefined;
    },
    source: (field) => sources.get(field),
    unused: Object.entries(values).filter(([column, value]) => !used.has(column) && present(value)),
  };
}

/** How a reason names a field: by the column (or --set) it came from, which is what the operator edits. */
export function describe(field: Field, source: Source): string {
  if (source === undefined) return field;
  if ("constant" in source) return `${field} (--set)`;
  return source.column === field ? field : `${source.column} (${field})`;
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}
