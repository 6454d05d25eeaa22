import avro from "avsc";
import { describe, expect, it } from "vitest";
import { callCompletedSchema, userChangedSchema } from "@tandem/events";
import type { AvroRecordSchema, CallDirection, UserFieldName, UserOperation } from "@tandem/events";
import { sampleCall, sampleUser } from "./fixtures";

/**
 * Compares record field names of an Avro type with a sample value, recursively, so that a field added
 * to or removed from either the schema or types.ts (whose samples must type-check) fails here.
 */
function fieldMismatches(type: avro.Type, value: unknown, path: string): string[] {
  if (type instanceof avro.types.RecordType) {
    const record = value as Record<string, unknown>;
    const schemaFields = type.fields.map((f) => f.name);
    const sampleFields = Object.keys(record);
    const problems = [
      ...schemaFields
        .filter((f) => !sampleFields.includes(f))
        .map((f) => `${path}.${f} is in the schema, not in the type`),
      ...sampleFields
        .filter((f) => !schemaFields.includes(f))
        .map((f) => `${path}.${f} is in the type, not in the schema`),
    ];
    for (const field of type.fields) {
      if (Object.hasOwn(record, field.name)) {
        problems.push(...fieldMismatches(field.type, record[field.name], `${path}.${field.name}`));
      }
    }
    return problems;
  }
  if (type instanceof avro.types.UnwrappedUnionType) {
    if (value === null) return [];
    const branch = type.types.find((t) => t.typeName !== "null" && t.isValid(value));
    return branch === undefined ? [`${path} matches no union branch`] : fieldMismatches(branch, value, path);
  }
  if (type instanceof avro.types.ArrayType) {
    return (value as unknown[]).flatMap((item, i) => fieldMismatches(type.itemsType, item, `${path}[${i}]`));
  }
  if (type instanceof avro.types.MapType) {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
      fieldMismatches(type.valuesType, v, `${path}[${k}]`),
    );
  }
  return [];
}

function invalidPaths(type: avro.Type, value: unknown): string[] {
  const paths: string[] = [];
  type.isValid(value, { errorHook: (path) => paths.push(path.join(".")) });
  return paths;
}

const cases: Array<{ name: string; schema: AvroRecordSchema; samples: Array<[string, unknown]> }> = [
  {
    name: "CallCompleted",
    schema: callCompletedSchema,
    samples: [
      ["full", sampleCall()],
      [
        "without audio or names",
        sampleCall({ audio: null, caller: { number: "1", name: null }, attributes: {} }),
      ],
    ],
  },
  {
    name: "UserChanged",
    schema: userChangedSchema,
    samples: [
      ["full upsert", sampleUser()],
      [
        "delete with null fields",
        sampleUser({
          operation: "DELETE",
          changedFields: [],
          fields: { name: null, email: null, extensions: null, role: null, active: null },
          baseVersion: {},
        }),
      ],
    ],
  },
];

describe.each(cases)("$name schema matches types.ts", ({ schema, samples }) => {
  const type = avro.Type.forSchema(schema as avro.Schema);

  it("is a self-contained io.tandem.events record", () => {
    expect(type.name).toBe(`io.tandem.events.${schema.name}`);
  });

  it.each(samples)("accepts the %s sample typed as the TS type", (_label, sample) => {
    expect(invalidPaths(type, sample)).toEqual([]);
  });

  it.each(samples)("has the same field names as the %s sample, at every depth", (_label, sample) => {
    expect(fieldMismatches(type, sample, schema.name)).toEqual([]);
  });

  it("documents every record and field", () => {
    const undocumented: string[] = [];
    const visit = (node: unknown, path: string): void => {
      if (Array.isArray(node)) {
        node.forEach((n, i) => visit(n, `${path}|${i}`));
        return;
      }
      if (node === null || typeof node !== "object") return;
      const record = node as {
        type?: unknown;
        name?: string;
        doc?: string;
        fields?: unknown[];
        items?: unknown;
        values?: unknown;
      };
      if (record.type === "record") {
        if (!record.doc) undocumented.push(`record ${record.name}`);
        for (const field of (record.fields ?? []) as Array<{ name: string; doc?: string; type: unknown }>) {
          if (!field.doc) undocumented.push(`${record.name}.${field.name}`);
          visit(field.type, `${record.name}.${field.name}`);
        }
      }
      visit(record.items, path);
      visit(record.values, path);
      if (typeof record.type === "object") visit(record.type, path);
    };
    visit(schema, schema.name);
    expect(undocumented).toEqual([]);
  });
});

describe("round trip through Avro", () => {
  it("decodes to the same values as the typed samples", () => {
    const callType = avro.Type.forSchema(callCompletedSchema as avro.Schema);
    const userType = avro.Type.forSchema(userChangedSchema as avro.Schema);
    expect(JSON.parse(JSON.stringify(callType.fromBuffer(callType.toBuffer(sampleCall()))))).toEqual(
      sampleCall(),
    );
    expect(JSON.parse(JSON.stringify(userType.fromBuffer(userType.toBuffer(sampleUser()))))).toEqual(
      sampleUser(),
    );
  });
});

describe("enums match the TS unions", () => {
  // Records keyed by the unions: the compiler refuses a missing or extra member.
  const directions: Record<CallDirection, true> = { INBOUND: true, OUTBOUND: true, INTERNAL: true };
  const operations: Record<UserOperation, true> = { UPSERT: true, DELETE: true };
  const fieldNames: Record<UserFieldName, true> = {
    name: true,
    email: true,
    extensions: true,
    role: true,
    active: true,
  };

  const enumSymbols = (schema: AvroRecordSchema, name: string): string[] => {
    const type = avro.Type.forSchema(schema as avro.Schema);
    let found: string[] = [];
    const walk = (t: avro.Type): void => {
      if (t instanceof avro.types.EnumType && t.name === `io.tandem.events.${name}`) found = t.symbols;
      if (t instanceof avro.types.RecordType) t.fields.forEach((f) => walk(f.type));
      if (t instanceof avro.types.ArrayType) walk(t.itemsType);
      if (t instanceof avro.types.MapType) walk(t.valuesType);
      if (t instanceof avro.types.UnwrappedUnionType) t.types.forEach(walk);
    };
    walk(type);
    return found;
  };

  it("CallDirection", () => {
    expect(enumSymbols(callCompletedSchema, "CallDirection")).toEqual(Object.keys(directions));
  });
  it("UserOperation", () => {
    expect(enumSymbols(userChangedSchema, "UserOperation")).toEqual(Object.keys(operations));
  });
  it("UserFieldName", () => {
    expect(enumSymbols(userChangedSchema, "UserFieldName")).toEqual(Object.keys(fieldNames));
  });
});
