import { describe, expect, it } from "vitest";
import { parseTopology, redactedConfig } from "@tandem/config";
import { validDocument, yaml } from "./fixtures";

describe("redactedConfig", () => {
  const doc = validDocument();
  doc.sites[0]!.kafka = {
    brokers: ["k:9092"],
    sasl: { mechanism: "scram-sha-256", username: "bridge-user", password: "kafka-secret" },
  };
  doc.sites[0]!.registry = { url: "http://r:8081", username: "reg-user", password: "registry-secret" };
  doc.sites[0]!.postgres = {
    connectionString: "postgres://tandem:pg-secret@pg.nyc:5432/tandem?sslmode=require",
  };
  doc.sites[0]!.objectStore = {
    kind: "s3",
    region: "us-east-1",
    bucket: "audio",
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: "s3-secret",
  };
  doc.sites[1]!.postgres = { host: "pg.lon", database: "tandem", user: "tandem", password: "pg2-secret" };
  const topology = parseTopology(yaml(doc));

  it("hides every secret and keeps what operators need to read", () => {
    const printed = JSON.stringify(redactedConfig(topology));
    expect(printed).not.toMatch(/kafka-secret|registry-secret|pg-secret|s3-secret|pg2-secret|bridge-user/);
    const redacted = redactedConfig(topology);
    expect(redacted.sites[0]?.kafka.sasl).toEqual({
      mechanism: "scram-sha-256",
      username: "***",
      password: "***",
    });
    expect(redacted.sites[0]?.registry).toEqual({
      url: "http://r:8081",
      username: "reg-user",
      password: "***",
    });
    expect(redacted.sites[0]?.postgres).toEqual({
      connectionString: "postgres://tandem:***@pg.nyc:5432/tandem?sslmode=require",
    });
    expect(redacted.sites[0]?.objectStore).toMatchObject({
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: "***",
    });
    expect(redacted.sites[1]?.postgres).toMatchObject({ host: "pg.lon", password: "***" });
    expect(redacted.links).toEqual(topology.links);
  });

  it("leaves the configuration itself untouched", () => {
    redactedConfig(topology);
    expect(topology.sites[0]?.kafka.sasl?.password).toBe("kafka-secret");
    expect(topology.sites[1]?.postgres).toMatchObject({ password: "pg2-secret" });
  });
});
