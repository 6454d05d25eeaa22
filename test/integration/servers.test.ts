import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { LocalStack, serverLogFile, type SiteEndpoints } from "@tandem/stack";
import { providedStack, stack } from "../support/stack";

const sites = (await stack()).sites.slice(0, 2);

/** What a server of the lane's local stack wrote to its log while `action` ran. */
async function loggedDuring(site: string, action: () => Promise<void>): Promise<string> {
  const provided = providedStack();
  if (provided.mode !== "local")
    throw new Error("the servers' logs are read from the local stack's directory");
  const file = serverLogFile(provided.dataDir, site, "s3");
  const before = fs.statSync(file).size;
  await action();
  const handle = fs.openSync(file, "r");
  try {
    const appended = Buffer.alloc(fs.fstatSync(handle).size - before);
    fs.readSync(handle, appended, 0, appended.length, before);
    return appended.toString("utf8");
  } finally {
    fs.closeSync(handle);
  }
}

function kafkaOf(site: SiteEndpoints) {
  return new Kafka({ clientId: "servers-test", brokers: site.kafka.brokers, logLevel: logLevel.NOTHING });
}

describe.each(sites)("real servers at $site", (site) => {
  it("Kafka: creates a topic, produces idempotently and consumes in a consumer group", async () => {
    const kafka = kafkaOf(site);
    const topic = `probe-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    await producer.send({
      topic,
      acks: -1,
      messages: keys.map((key) => ({ key, value: `value of ${key}` })),
    });
    const consumer = kafka.consumer({ groupId: `g-${topic}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Map<string, string>();
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.set(String(message.key), String(message.value));
          if (seen.size === keys.length) resolve();
        },
      });
    });
    await Promise.all([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
    expect([...seen.keys()].sort()).toEqual([...keys].sort());
    expect(seen.get("key-7")).toBe("value of key-7");
  });

  it("Kafka: a transaction is visible to read-committed consumers only once committed", async () => {
    const kafka = kafkaOf(site);
    const topic = `tx-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer({
      transactionalId: `tx-${topic}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ key: "a", value: "aborted" }] });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ key: "c", value: "committed" }] });
    await committed.commit();
    const consumer = kafka.consumer({ groupId: `g-${topic}`, readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          values.push(String(message.value));
          resolve();
        },
      });
    });
    await Promise.all([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
    expect(values).toEqual(["committed"]);
  });

  it("schema registry: registers an Avro schema and decodes what it encoded", async () => {
    const registry = new SchemaRegistry({ host: site.registry.url });
    const schema = {
      type: "record",
      name: "Probe",
      namespace: "io.tandem.test",
      fields: [
        { name: "id", type: "string" },
        { name: "n", type: "long" },
      ],
    };
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject: `probe-${randomUUID()}-value` },
    );
    const value = { id: randomUUID(), n: 42 };
    const encoded = await registry.encode(id, value);
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await new SchemaRegistry({ host: site.registry.url }).decode(encoded)).toEqual(value);
  });

  it.runIf(providedStack().mode === "local")(
    "schema registry: the local stack's Apicurio holds fewer PostgreSQL connections than its default of 20",
    async () => {
      const client = new pg.Client({ connectionString: site.postgres.connectionString });
      await client.connect();
      try {
        const held = await client.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'registry'",
        );
        expect(held.rows[0]!.n).toBeGreaterThan(0);
        expect(held.rows[0]!.n).toBeLessThan(20);
      } finally {
        await client.end();
      }
    },
  );

  it("PostgreSQL: writes a row and reads it back", async () => {
    const client = new pg.Client({ connectionString: site.postgres.connectionString });
    await client.connect();
    try {
      const table = `probe_${randomUUID().replaceAll("-", "")}`;
      await client.query(`CREATE TABLE ${table} (id uuid PRIMARY KEY, site text NOT NULL)`);
      const id = randomUUID();
      await client.query(`INSERT INTO ${table} VALUES ($1, $2)`, [id, site.site]);
      const rows = await client.query(`SELECT id, site FROM ${table}`);
      expect(rows.rows).toEqual([{ id, site: site.site }]);
      await client.query(`DROP TABLE ${table}`);
    } finally {
      await client.end();
    }
  });

  it("S3: puts an object and gets it back with the same sha256", async () => {
    const s3 = s3Of(site);
    const body = Buffer.alloc(256 * 1024, site.site);
    const sha256 = createHash("sha256").update(body).digest("hex");
    const key = `probe/${randomUUID()}.bin`;
    await s3.send(
      new PutObjectCommand({ Bucket: site.objectStore.bucket, Key: key, Body: body, Metadata: { sha256 } }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: site.objectStore.bucket, Key: key }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(sha256);
    expect(got.Metadata?.sha256).toBe(sha256);
    s3.destroy();
  });

  it.runIf(providedStack().mode === "local")(
    "S3: the local stack's S3Proxy logs no debug lines and no request headers for a PUT and a GET",
    async () => {
      const s3 = s3Of(site);
      const key = `probe/${randomUUID()}.bin`;
      const logged = await loggedDuring(site.site, async () => {
        await s3.send(
          new PutObjectCommand({ Bucket: site.objectStore.bucket, Key: key, Body: Buffer.alloc(64 * 1024) }),
        );
        await s3.send(new GetObjectCommand({ Bucket: site.objectStore.bucket, Key: key }));
      });
      s3.destroy();
      expect(logged).not.toMatch(/\bDEBUG\b/);
      expect(logged).not.toMatch(/Authorization|Signature=/i);
    },
  );
});

function s3Of(site: SiteEndpoints): S3Client {
  const store = site.objectStore;
  return new S3Client({
    endpoint: store.endpoint,
    region: store.region,
    forcePathStyle: true,
    credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

it("Kafka at two sites are separate clusters", async () => {
  const [a, b] = sites;
  const topic = `only-at-${a!.site}-${randomUUID()}`;
  const adminA = kafkaOf(a!).admin();
  const adminB = kafkaOf(b!).admin();
  await Promise.all([adminA.connect(), adminB.connect()]);
  await adminA.createTopics({ topics: [{ topic }], waitForLeaders: true });
  expect(await adminA.listTopics()).toContain(topic);
  expect(await adminB.listTopics()).not.toContain(topic);
  await Promise.all([adminA.disconnect(), adminB.disconnect()]);
});

it.runIf(providedStack().mode === "local")(
  "the local stack gives every server's JVM the options of TANDEM_STACK_JAVA_OPTIONS",
  async () => {
    const wanted = process.env.TANDEM_STACK_JAVA_OPTIONS?.split(/\s+/).filter(Boolean) ?? [];
    expect(wanted.length).toBeGreaterThan(0);
    const provided = providedStack();
    if (provided.mode !== "local") return;
    const jvms = (await new LocalStack({ dataDir: provided.dataDir }).status()).filter(
      (row) => row.kind === "kafka" || row.kind === "registry" || row.kind === "s3",
    );
    expect(jvms.length).toBeGreaterThanOrEqual(9);
    for (const row of jvms) {
      const commandLine = fs.readFileSync(`/proc/${row.pid}/cmdline`, "utf8").split("\0");
      expect(commandLine, `${row.site} ${row.kind}`).toEqual(expect.arrayContaining(wanted));
    }
  },
);
