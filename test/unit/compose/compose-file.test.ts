import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseTopology } from "@tandem/config";

const root = new URL("../../../", import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), "utf8");

interface Service {
  image?: string;
  build?: { context?: string; dockerfile?: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] };
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

// docker-compose.yml shares blocks through anchors and merge keys (`<<: *tandem`).
const compose = parse(read("docker-compose.yml"), { merge: true }) as ComposeFile;
const services = compose.services;
const SITES = ["nyc", "lon"] as const;
const TANDEM_ROLES = ["bridge", "materializer", "recorder"] as const;
const tandemServices = SITES.flatMap((site) => TANDEM_ROLES.map((role) => `${role}-${site}`));

function service(name: string): Service {
  const found = services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

function envExample(): Record<string, string> {
  const entries = read("config/compose/env.example")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const at = line.indexOf("=");
      return [line.slice(0, at), line.slice(at + 1)] as const;
    });
  return Object.fromEntries(entries);
}

const isSecretName = (name: string): boolean => /PASSWORD|SECRET/i.test(name);
/** A compose substitution that fails when the variable is unset: `${NAME:?message}`. */
const REQUIRED_REFERENCE = /^\$\{([A-Z][A-Z0-9_]*):\?[^}]*\}$/;

describe("docker-compose.yml", () => {
  it("gives each site Kafka, a registry, PostgreSQL, MinIO and Tandem's three services", () => {
    for (const site of SITES) {
      expect(service(`kafka-${site}`).image).toBe("apache/kafka:4.1.1");
      expect(service(`registry-${site}`).image).toBe("apicurio/apicurio-registry:3.0.9");
      expect(service(`postgres-${site}`).image).toBe("postgres:16");
      expect(service(`minio-${site}`).image).toMatch(/^minio\/minio(:|$)/);
      for (const role of TANDEM_ROLES) service(`${role}-${site}`);
    }
  });

  it("runs every Tandem service from the one image built by the Dockerfile, with its role's command", () => {
    const images = new Set(tandemServices.map((name) => service(name).image));
    expect(images.size).toBe(1);
    for (const name of tandemServices) {
      expect(service(name).build).toEqual({ context: ".", dockerfile: "Dockerfile" });
      expect(service(name).volumes).toContain("./config/compose/topology.yaml:/config/topology.yaml:ro");
    }
    for (const site of SITES) {
      const config = ["--config", "/config/topology.yaml", "--site", site];
      expect(service(`bridge-${site}`).command).toEqual(["run", ...config, "--role", "bridge"]);
      expect(service(`materializer-${site}`).command).toEqual(["run", ...config, "--role", "materializer"]);
      expect(service(`recorder-${site}`).command).toEqual(["recorder", ...config]);
    }
  });

  it("runs Kafka as one KRaft broker/controller with single-replica internal topics and no auto-creation", () => {
    for (const site of SITES) {
      const env = service(`kafka-${site}`).environment ?? {};
      expect(env).toMatchObject({
        KAFKA_PROCESS_ROLES: "broker,controller",
        KAFKA_CONTROLLER_QUORUM_VOTERS: `1@kafka-${site}:9093`,
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: "1",
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: "1",
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: "1",
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false",
      });
      expect(env.KAFKA_ADVERTISED_LISTENERS).toContain(`INTERNAL://kafka-${site}:9092`);
      expect(env.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
    const clusterIds = SITES.map((site) => service(`kafka-${site}`).environment?.CLUSTER_ID);
    expect(new Set(clusterIds).size).toBe(SITES.length);
  });

  it("stores each site's registry in that site's PostgreSQL", () => {
    for (const site of SITES) {
      expect(service(`registry-${site}`).environment).toMatchObject({
        APICURIO_STORAGE_KIND: "sql",
        APICURIO_STORAGE_SQL_KIND: "postgresql",
        APICURIO_DATASOURCE_URL: `jdbc:postgresql://postgres-${site}:5432/registry`,
        APICURIO_DATASOURCE_USERNAME: "registry",
      });
      expect(service(`registry-${site}`).depends_on).toEqual({
        [`postgres-${site}`]: { condition: "service_healthy" },
      });
    }
  });

  it("health-checks the servers and starts nothing before what it depends on is healthy or done", () => {
    for (const site of SITES) {
      for (const server of ["kafka", "registry", "postgres", "minio"]) {
        expect(service(`${server}-${site}`).healthcheck?.test?.length, `${server}-${site}`).toBeGreaterThan(
          0,
        );
      }
    }
    for (const [name, svc] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(svc.depends_on ?? {})) {
        const expected =
          service(dependency).healthcheck === undefined
            ? "service_completed_successfully"
            : "service_healthy";
        expect(condition, `${name} -> ${dependency}`).toBe(expected);
      }
    }
    for (const name of tandemServices) {
      expect(Object.keys(service(name).depends_on ?? {}).length, name).toBeGreaterThan(0);
    }
  });

  it("keeps data in declared named volumes", () => {
    const declared = Object.keys(compose.volumes ?? {});
    const named = Object.values(services)
      .flatMap((svc) => svc.volumes ?? [])
      .map((mount) => mount.split(":")[0] ?? "")
      .filter((source) => !source.startsWith(".") && !source.startsWith("/"));
    for (const site of SITES) {
      for (const server of ["kafka", "postgres", "minio"]) expect(named).toContain(`${server}-${site}-data`);
    }
    for (const source of named) expect(declared).toContain(source);
  });

  it("holds no literal secret: every password or secret is a required ${VAR} from .env", () => {
    const secrets = Object.entries(services).flatMap(([name, svc]) =>
      Object.entries(svc.environment ?? {})
        .filter(([key]) => isSecretName(key))
        .map(([key, value]) => ({ at: `${name}.${key}`, value: String(value) })),
    );
    expect(secrets.length).toBeGreaterThan(0);
    for (const { at, value } of secrets) expect(value, at).toMatch(REQUIRED_REFERENCE);

    const text = read("docker-compose.yml");
    for (const [name, value] of Object.entries(envExample())) {
      if (isSecretName(name)) expect(text, name).not.toContain(value);
    }
  });

  it("has every required variable in config/compose/env.example", () => {
    const text = read("docker-compose.yml");
    const required = [...text.matchAll(/\$\{([A-Z][A-Z0-9_]*):\?/g)].map((match) => match[1]);
    expect(required.length).toBeGreaterThan(0);
    const example = envExample();
    for (const name of required) expect(Object.keys(example), name).toContain(name);
  });
});

describe("config/compose/topology.yaml", () => {
  const topologyText = read("config/compose/topology.yaml");

  it("is a valid topology of both sites, on the compose host names, with the example credentials", () => {
    const topology = parseTopology(topologyText, { env: envExample(), sourceName: "topology.yaml" });
    expect(topology.sites.map((site) => site.id)).toEqual([...SITES]);
    for (const site of topology.sites) {
      expect(site.kafka.brokers).toEqual([`kafka-${site.id}:9092`]);
      expect(site.registry.url).toBe(`http://registry-${site.id}:8080/apis/ccompat/v7`);
      expect(site.objectStore).toMatchObject({ kind: "s3", bucket: `tandem-${site.id}` });
    }
    expect(topology.links.map((link) => `${link.from}->${link.to}`).sort()).toEqual(["lon->nyc", "nyc->lon"]);
  });

  it("gets every ${NAME} it references from each Tandem container's environment, under the same name", () => {
    // From the values only: the file's comments mention `${NAME}` too.
    const values = JSON.stringify(parse(topologyText));
    const referenced = [...values.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((match) => match[1]);
    expect(referenced.length).toBeGreaterThan(0);
    for (const name of tandemServices) {
      const env = service(name).environment ?? {};
      for (const variable of referenced) {
        expect(env[variable ?? ""], `${name}: ${variable}`).toMatch(new RegExp(`^\\$\\{${variable}:\\?`));
      }
    }
  });
});

describe("Dockerfile", () => {
  const dockerfile = read("Dockerfile");

  it("runs the CLI's TypeScript sources with tsx on Node 22", () => {
    expect(dockerfile).toMatch(/^FROM node:22-bookworm-slim$/m);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "--import", "tsx", "services/cli/src/main.ts"]');
    expect(read("services/cli/src/main.ts").length).toBeGreaterThan(0);
  });

  it("installs the production dependencies only, among them tsx as a dependency of the CLI", () => {
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev /m);
    const cli = JSON.parse(read("services/cli/package.json")) as { dependencies?: Record<string, string> };
    expect(cli.dependencies).toHaveProperty("tsx");
  });

  const ignored = () =>
    read(".dockerignore")
      .split("\n")
      .map((line) => line.trim());

  it("keeps .env out of the build context", () => {
    expect(ignored()).toContain(".env");
  });

  it("leaves the tests, their soak harness and the benchmarks out of the image", () => {
    expect(ignored()).toEqual(expect.arrayContaining(["test/", "bench/"]));
  });
});
