import { registryAuthOf, type RegistryConfig } from "@tandem/config";
import {
  ensureBackwardCompatibility,
  eventKindForTopic,
  eventSchemas,
  parseWireFormat,
  registryHeaders,
  subjectFor,
  withSchemaId,
  type RegistryEndpoint,
} from "@tandem/events";
import { PermanentError } from "@tandem/runtime";

/** A record the translator can never translate: retrying gives the same answer, so it goes to the DLQ. */
export class UntranslatableRecord extends PermanentError {
  constructor(message: string) {
    super(message);
    this.name = "UntranslatableRecord";
  }
}

function fullName(schema: { name?: unknown; namespace?: unknown }): string | undefined {
  if (typeof schema.name !== "string") return undefined;
  if (schema.name.includes(".") || typeof schema.namespace !== "string") return schema.name;
  return `${schema.namespace}.${schema.name}`;
}

/** The full name of the record a schema text declares; undefined for anything else. */
function recordName(schemaText: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(schemaText);
    return parsed !== null && typeof parsed === "object" ? fullName(parsed) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Rewrites the schema id in Confluent wire-format values when source and target sites have their own
 * registries: the writer schema is fetched from the source registry by id, registered at the target under
 * `<target topic>-value` (BACKWARD), and the target's id replaces the source's. Ids are cached per
 * (source id, subject). Transient registry failures throw ordinary errors (retry the batch).
 */
export class SchemaTranslator {
  private readonly targetIds = new Map<string, Promise<number>>();
  private readonly sourceSchemas = new Map<number, Promise<{ schema: string; schemaType?: string }>>();
  private readonly configured = new Set<string>();
  private readonly sourceEndpoint: RegistryEndpoint;
  private readonly targetEndpoint: RegistryEndpoint;
  readonly identity: boolean;

  constructor(
    private readonly source: RegistryConfig,
    private readonly target: RegistryConfig,
  ) {
    this.sourceEndpoint = { url: source.url, auth: registryAuthOf(source) };
    this.targetEndpoint = { url: target.url, auth: registryAuthOf(target) };
    this.identity = source.url.replace(/\/+$/, "") === target.url.replace(/\/+$/, "");
  }

  async translate(value: Buffer | null, targetTopic: string): Promise<Buffer | null> {
    if (this.identity) return value;
    if (value === null) throw new UntranslatableRecord("record has no value");
    const wire = parseWireFormat(value);
    if (!wire.ok)
      throw new UntranslatableRecord(`value is not in the Confluent wire format: ${wire.problem}`);
    // Registries issue ids from 1; asking for another one gets a client error, not an answer.
    if (wire.schemaId < 1) throw new UntranslatableRecord(`schema id ${wire.schemaId} is not a registry id`);
    const subject = subjectFor(targetTopic);
    const cacheKey = `${wire.schemaId}:${subject}`;
    let targetId = this.targetIds.get(cacheKey);
    if (targetId === undefined) {
      targetId = this.registerAtTarget(wire.schemaId, subject);
      this.targetIds.set(cacheKey, targetId);
      targetId.catch(() => this.targetIds.delete(cacheKey));
    }
    return withSchemaId(value, await targetId);
  }

  private async registerAtTarget(sourceId: number, subject: string): Promise<number> {
    const schema = await this.sourceSchema(sourceId);
    // Registering another event's schema first under a subject would make it refuse the right one later.
    const topic = subject.replace(/-value$/, "");
    const expected = eventKindForTopic(topic);
    const written = recordName(schema.schema);
    if (expected !== undefined && written !== fullName(eventSchemas[expected])) {
      throw new UntranslatableRecord(
        `schema id ${sourceId} is ${written ?? "not an Avro record"}, but ${topic} carries ${expected}`,
      );
    }
    if (!this.configured.has(subject)) {
      await ensureBackwardCompatibility(this.targetEndpoint, subject);
      this.configured.add(subject);
    }
    const base = this.target.url.replace(/\/+$/, "");
    const headers = registryHeaders(this.targetEndpoint);
    const response = await fetch(`${base}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: "POST",
      headers,
      body: JSON.stringify(schema),
    });
    const body = await response.text();
    if (response.status === 409 || response.status === 422) {
      throw new UntranslatableRecord(`target registry refused schema ${sourceId} under ${subject}: ${body}`);
    }
    if (!response.ok) throw new Error(`target registry answered HTTP ${response.status}: ${body}`);
    return (JSON.parse(body) as { id: number }).id;
  }

  private sourceSchema(id: number): Promise<{ schema: string; schemaType?: string }> {
    let schema = this.sourceSchemas.get(id);
    if (schema === undefined) {
      schema = (async () => {
        const base = this.source.url.replace(/\/+$/, "");
        const response = await fetch(`${base}/schemas/ids/${id}`, {
          headers: registryHeaders(this.sourceEndpoint),
        });
        const body = await response.text();
        if (response.status === 404)
          throw new UntranslatableRecord(`schema id ${id} is unknown at the source registry`);
        if (!response.ok) throw new Error(`source registry answered HTTP ${response.status}: ${body}`);
        const parsed = JSON.parse(body) as { schema: string; schemaType?: string };
        return parsed.schemaType === undefined ? { schema: parsed.schema } : parsed;
      })();
      this.sourceSchemas.set(id, schema);
      schema.catch(() => this.sourceSchemas.delete(id));
    }
    return schema;
  }
}
