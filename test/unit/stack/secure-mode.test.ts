import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  LocalStack,
  caCertificateFile,
  layoutChange,
  scramFormatArgs,
  serverProperties,
  sitePorts,
  type StackLayout,
} from "@tandem/stack";
import { loadOrCreateCredentials } from "../../../packages/stack/src/credentials";
import { kafkaServer } from "../../../packages/stack/src/servers/kafka";
import { envLines } from "../../../services/cli/src/commands/stack";
import { siteConfigOf } from "../../../services/cli/src/local-topology";

const ports = sitePorts(24000, 0);
const tls = { keystore: "/data/sites/sec/kafka/tls/broker.p12", password: "keystore-secret" };
const lines = (text: string) => text.split("\n");

const temporaryDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-secure-unit-"));
  temporaryDirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of temporaryDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("broker properties", () => {
  it("plain mode: one PLAINTEXT listener for clients and brokers, as before secure mode existed", () => {
    const text = serverProperties({ ports, logDir: "/data/log" });
    expect(lines(text)).toEqual(
      expect.arrayContaining([
        "listeners=PLAINTEXT://127.0.0.1:24000,CONTROLLER://127.0.0.1:24001",
        "advertised.listeners=PLAINTEXT://127.0.0.1:24000",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
      ]),
    );
    expect(text).not.toMatch(/sasl|ssl|24005/i);
  });

  it("secure mode: clients on SASL_SSL, brokers on a loopback PLAINTEXT listener at kafka port + 5", () => {
    const text = lines(serverProperties({ ports, logDir: "/data/log", tls }));
    expect(text).toEqual(
      expect.arrayContaining([
        "listeners=SASL_SSL://127.0.0.1:24000,INTERNAL://127.0.0.1:24005,CONTROLLER://127.0.0.1:24001",
        "advertised.listeners=SASL_SSL://127.0.0.1:24000,INTERNAL://127.0.0.1:24005",
        "listener.security.protocol.map=SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=INTERNAL",
        "controller.listener.names=CONTROLLER",
        "sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256",
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
        "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
        "ssl.keystore.type=PKCS12",
        "ssl.keystore.location=/data/sites/sec/kafka/tls/broker.p12",
        "ssl.keystore.password=keystore-secret",
        "ssl.key.password=keystore-secret",
      ]),
    );
    // The clients' port is never reachable without TLS and SASL.
    expect(text.join("\n")).not.toMatch(/(PLAINTEXT|INTERNAL|CONTROLLER):\/\/127\.0\.0\.1:24000\b/);
  });

  it("formats storage with the user's SCRAM credentials for each enabled mechanism", () => {
    expect(scramFormatArgs("tandem", "abc123")).toEqual([
      "--add-scram",
      "SCRAM-SHA-512=[name=tandem,password=abc123]",
      "--add-scram",
      "SCRAM-SHA-256=[name=tandem,password=abc123]",
    ]);
    expect(() => scramFormatArgs("tandem", "a,b=c")).toThrow(/password may only hold/);
  });
});

describe("stack mode", () => {
  const layout = (over: Partial<StackLayout> = {}): StackLayout => ({
    dataDir: "/d",
    sites: ["nyc"],
    basePort: 29000,
    ...over,
  });

  it("names a change of mode, and treats a layout without the flag as plain", () => {
    expect(layoutChange(layout(), layout({ secure: false }))).toBeUndefined();
    expect(layoutChange(layout(), layout({ secure: true }))).toBe("plain mode -> secure mode");
    expect(layoutChange(layout({ secure: true }), layout({ secure: false, basePort: 29100 }))).toBe(
      "base port 29000 -> 29100, secure mode -> plain mode",
    );
  });

  it("remembers secure mode in stack.json's absence from options, and gives secure endpoints", () => {
    const dataDir = tempDir();
    fs.writeFileSync(
      path.join(dataDir, "stack.json"),
      JSON.stringify({ dataDir, sites: ["sec"], basePort: 24000, secure: true }),
    );
    const [site] = new LocalStack({ dataDir }).endpoints().sites;
    const credentials = JSON.parse(fs.readFileSync(path.join(dataDir, "credentials.json"), "utf8"));
    expect(site?.kafka).toEqual({
      brokers: ["127.0.0.1:24000"],
      ssl: { ca: caCertificateFile(dataDir) },
      sasl: { mechanism: "scram-sha-512", username: "tandem", password: credentials.kafka.password },
    });
  });

  it("plain endpoints carry neither TLS nor SASL, and plain mode makes no Kafka credentials", () => {
    const dataDir = tempDir();
    const [site] = new LocalStack({ dataDir, sites: ["nyc"] }).endpoints().sites;
    expect(site?.kafka).toEqual({ brokers: ["127.0.0.1:29000"] });
    expect(loadOrCreateCredentials(dataDir).kafka).toBeUndefined();
  });
});

describe("credentials", () => {
  it("adds Kafka credentials to an existing file, keeping the others and the owner-only mode", () => {
    const dataDir = tempDir();
    const before = loadOrCreateCredentials(dataDir);
    const after = loadOrCreateCredentials(dataDir, { kafka: true });
    expect(after.postgres).toEqual(before.postgres);
    expect(after.s3).toEqual(before.s3);
    expect(after.kafka?.username).toBe("tandem");
    expect(after.kafka?.password).toMatch(/^[0-9a-f]{36}$/);
    expect(after.kafka?.keystorePassword).not.toBe(after.kafka?.password);
    expect(loadOrCreateCredentials(dataDir, { kafka: true })).toEqual(after);
    expect(fs.statSync(path.join(dataDir, "credentials.json")).mode & 0o777).toBe(0o600);
  });
});

describe("secure broker start", () => {
  it("refuses storage formatted in plain mode, saying how to reformat", async () => {
    const dataDir = tempDir();
    const credentials = loadOrCreateCredentials(dataDir, { kafka: true });
    const logDir = path.join(dataDir, "sites", "sec", "kafka", "data");
    fs.mkdirSync(logDir, { recursive: true });
    fs.writeFileSync(path.join(logDir, "meta.properties"), "node.id=1\n");
    const server = kafkaServer({ dataDir, site: "sec", ports, credentials, secure: true, wanListeners: [] });
    const runtime = {
      java: "java",
      javaOptions: [],
      artifacts: { kafkaClasspath: "", s3proxyClasspath: "", apicurioRunner: "" },
    };
    await expect(server.start(runtime)).rejects.toThrow(
      /sec kafka: its storage \(.*kafka\/data\) was formatted in plain mode, without the SCRAM credentials.*Delete that directory/,
    );
  });
});

describe("stack env", () => {
  const dataDir = "/d";
  const endpoints = {
    sites: [
      {
        site: "sec",
        kafka: {
          brokers: ["127.0.0.1:24000"],
          ssl: { ca: "/d/tls/ca.pem" },
          sasl: { mechanism: "scram-sha-512" as const, username: "tandem", password: "kafka-secret" },
        },
        registry: { url: "http://127.0.0.1:24002/apis/ccompat/v7" },
        postgres: {
          connectionString: "postgres://tandem:pg-secret@127.0.0.1:24003/tandem",
          database: "tandem",
        },
        objectStore: {
          kind: "s3" as const,
          endpoint: "http://127.0.0.1:24004",
          region: "us-east-1",
          bucket: "tandem-sec",
          accessKeyId: "key-id",
          secretAccessKey: "s3-secret",
          forcePathStyle: true as const,
        },
      },
    ],
  };

  it("prints the CA path and the SASL user, the password only when secrets are asked for", () => {
    const hidden = envLines(endpoints, false, dataDir);
    expect(hidden).toContain("export TANDEM_SEC_KAFKA_CA=/d/tls/ca.pem");
    expect(hidden).toContain("export TANDEM_SEC_KAFKA_SASL_USERNAME=tandem");
    expect(hidden.join("\n")).not.toContain("kafka-secret");
    expect(envLines(endpoints, true, dataDir)).toContain(
      "export TANDEM_SEC_KAFKA_SASL_PASSWORD='kafka-secret'",
    );
  });

  it("a site's configuration carries the CA file and the SCRAM credentials", () => {
    expect(siteConfigOf(endpoints.sites[0]!).kafka).toEqual({
      brokers: ["127.0.0.1:24000"],
      ssl: { ca: "/d/tls/ca.pem" },
      sasl: { mechanism: "scram-sha-512", username: "tandem", password: "kafka-secret" },
    });
  });
});
