import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadTopology, TopologyError } from "@tandem/config";
import { validDocument, yaml } from "./fixtures";

describe("loadTopology", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tandem-config-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("resolves relative TLS and directory paths against the file's directory", () => {
    writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    const doc = validDocument();
    doc.sites[0]!.kafka = { brokers: ["k:9092"], ssl: { ca: "ca.pem" } };
    doc.sites[0]!.objectStore = { kind: "directory", path: "audio/nyc" };
    const file = join(dir, "topology.yaml");
    writeFileSync(file, yaml(doc));

    const topology = loadTopology(file, {});
    expect(topology.sites[0]?.kafka.ssl).toEqual({ ca: join(dir, "ca.pem") });
    expect(topology.sites[0]?.objectStore).toEqual({ kind: "directory", path: join(dir, "audio/nyc") });
    expect(topology.sites[1]?.objectStore).toEqual({ kind: "directory", path: "/srv/lon/audio" });
  });

  it("reports TLS files that cannot be read, with the other problems", () => {
    const doc = validDocument();
    doc.sites[1]!.kafka = {
      brokers: ["k:9092"],
      ssl: { ca: "missing-ca.pem", cert: "/nonexistent/cert.pem" },
    };
    doc.links[0]!.delivery = "sometimes";
    const file = join(dir, "topology.yaml");
    writeFileSync(file, yaml(doc));

    const error = captureError(() => loadTopology(file, {}));
    expect(error.sourceName).toBe(file);
    expect(error.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      `sites[1].kafka.ssl.ca: cannot read ${join(dir, "missing-ca.pem")}: ENOENT`,
      "sites[1].kafka.ssl.cert: cannot read /nonexistent/cert.pem: ENOENT",
      'links[0].delivery: expected one of "at-least-once", "exactly-once", got "sometimes"',
    ]);
  });

  it("takes secrets from the environment it is given", () => {
    const doc = validDocument();
    doc.sites[0]!.registry = { url: "http://r:8081", username: "u", password: "${REGISTRY_PASSWORD}" };
    const file = join(dir, "topology.yaml");
    writeFileSync(file, yaml(doc));
    expect(loadTopology(file, { REGISTRY_PASSWORD: "pw" }).sites[0]?.registry.password).toBe("pw");
    expect(captureError(() => loadTopology(file, {})).problems).toEqual([
      {
        path: "sites[0].registry.password",
        message: "environment variable REGISTRY_PASSWORD is not set",
        line: 9,
      },
    ]);
  });

  it("reports a file that does not exist", () => {
    const error = captureError(() => loadTopology(join(dir, "nope.yaml"), {}));
    expect(error.problems).toEqual([{ path: "", message: "cannot read the file: ENOENT" }]);
  });
});

function captureError(run: () => unknown): TopologyError {
  try {
    run();
  } catch (error) {
    if (error instanceof TopologyError) return error;
    throw error;
  }
  throw new Error("expected a TopologyError");
}
