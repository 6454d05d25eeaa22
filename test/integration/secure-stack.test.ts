import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import YAML from "yaml";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadTopology, type KafkaConfig } from "@tandem/config";
import { createKafka } from "@tandem/kafka";
import { LocalStack, type SiteEndpoints } from "@tandem/stack";
import { kafkaFor, readTopic } from "../support/clients";
import { testLogger } from "../support/logger";
import { SECURE_BASE_PORT, laneDataDir } from "../support/test-stack";
import { topologyOf } from "../support/topology";

/**
 * A stack of its own in secure mode (the shared test stack is plain): Kafka admits clients only over TLS,
 * trusting the stack's CA, with SASL/SCRAM credentials; everything else is refused, promptly and saying why.
 */
const dataDir = laneDataDir("test-secure");
const secure = new LocalStack({ dataDir, sites: ["sec"], basePort: SECURE_BASE_PORT, secure: true });
const logger = testLogger("secure-stack");
let site: SiteEndpoints;
let config: KafkaConfig;

beforeAll(async () => {
  site = (await secure.up()).sites[0]!;
  // Configuration as an operator writes it: a topology file, the password taken from the environment.
  const topology = topologyOf([site], []);
  const sasl = topology.sites[0]!.kafka.sasl!;
  const password = sasl.password;
  sasl.password = "${SEC_KAFKA_PASSWORD}";
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tandem-secure-")), "topology.yaml");
  fs.writeFileSync(file, YAML.stringify(topology), { mode: 0o600 });
  config = loadTopology(file, { SEC_KAFKA_PASSWORD: password }).sites[0]!.kafka;
});

afterAll(async () => {
  await secure.down();
});

/** Whether connecting fails, how, and how long it took to say so. */
async function connectFailure(kafka: Kafka): Promise<{ error: Error; ms: number }> {
  const admin = kafka.admin();
  const started = Date.now();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    return { error: error as Error, ms: Date.now() - started };
  } finally {
    await admin.disconnect();
  }
  throw new Error("connected although it should have been refused");
}

it("the endpoints and the configuration built from them name the CA file and the SCRAM user", () => {
  expect(site.kafka.ssl).toEqual({ ca: path.join(dataDir, "tls", "ca.pem") });
  expect(site.kafka.sasl).toMatchObject({ mechanism: "scram-sha-512", username: "tandem" });
  expect(config.ssl).toEqual({ ca: site.kafka.ssl!.ca });
  expect(config.sasl).toEqual(site.kafka.sasl);
  expect(fs.readFileSync(site.kafka.ssl!.ca, "utf8")).toMatch(/^-----BEGIN CERTIFICATE-----/);
});

it("keeps private keys and the files holding passwords readable by their owner only", () => {
  const kafkaDir = path.join(dataDir, "sites", "sec", "kafka");
  for (const file of [
    path.join(dataDir, "tls", "ca.p12"),
    path.join(kafkaDir, "tls", "broker.p12"),
    path.join(kafkaDir, "server.properties"),
    path.join(dataDir, "credentials.json"),
  ]) {
    expect({ file, mode: fs.statSync(file).mode & 0o777 }).toEqual({ file, mode: 0o600 });
  }
});

it("produces and consumes over SASL_SSL with a client made from the configuration", async () => {
  const kafka = createKafka(config, "secure-test", logger);
  const topic = `secure.check.${Date.now()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();

  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ key: "k", value: "over tls" }] });
  await producer.disconnect();

  const received: string[] = [];
  const consumer = kafka.consumer({ groupId: `secure-test-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      received.push(message.value?.toString() ?? "");
    },
  });
  const deadline = Date.now() + 30_000;
  while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await consumer.disconnect();
  expect(received).toEqual(["over tls"]);

  // The test helpers' clients follow the same endpoints.
  const viaHelper = await readTopic(site, topic, { count: 1 });
  expect(viaHelper.map((m) => m.value?.toString())).toEqual(["over tls"]);
});

it("refuses a wrong password, saying authentication failed", async () => {
  const wrong = createKafka(
    { ...config, sasl: { ...config.sasl!, password: "not-the-password" } },
    "t",
    logger,
  );
  const { error, ms } = await connectFailure(wrong);
  expect(error.name).toBe("KafkaJSSASLAuthenticationError");
  expect(error.message).toMatch(/authentication failed.*invalid credentials/i);
  expect(ms).toBeLessThan(10_000);
});

it("refuses an unknown user the same way", async () => {
  const stranger = createKafka({ ...config, sasl: { ...config.sasl!, username: "mallory" } }, "t", logger);
  const { error } = await connectFailure(stranger);
  expect(error.message).toMatch(/authentication failed/i);
});

it("a client without TLS fails promptly instead of hanging", async () => {
  const plain = new Kafka({
    clientId: "plain",
    brokers: config.brokers,
    sasl: site.kafka.sasl,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  });
  const { error, ms } = await connectFailure(plain);
  expect(error.message).toMatch(/closed connection|connection error|timeout/i);
  expect(ms).toBeLessThan(10_000);
});

it("a client that does not trust the stack's CA refuses the broker's certificate", async () => {
  const untrusting = createKafka({ ...config, ssl: true }, "t", logger);
  const { error } = await connectFailure(untrusting);
  expect(error.message).toMatch(/self-signed certificate in certificate chain/);
});

it("a client that trusts the CA but has no credentials is not admitted", async () => {
  const anonymous = new Kafka({
    clientId: "anonymous",
    brokers: config.brokers,
    ssl: { ca: fs.readFileSync(site.kafka.ssl!.ca, "utf8") },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  });
  const { ms } = await connectFailure(anonymous);
  expect(ms).toBeLessThan(10_000);
});

it("refuses to switch the running stack to plain mode, saying to stop it first", async () => {
  const plain = new LocalStack({ dataDir, secure: false });
  await expect(plain.up()).rejects.toThrow(
    /in secure mode is running.*secure mode -> plain mode.*'stack down' first/,
  );
  const again = kafkaFor(site).admin();
  await again.connect();
  expect((await again.describeCluster()).brokers).toHaveLength(1);
  await again.disconnect();
});

it("a crashed secure broker starts again with its certificate and credentials, ready over SASL_SSL", async () => {
  expect(secure.killServer("sec", "kafka")).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await secure.startServer("sec", "kafka");
  const admin = createKafka(config, "secure-test", logger).admin();
  await admin.connect();
  expect((await admin.describeCluster()).brokers).toHaveLength(1);
  await admin.disconnect();
});
