import { describe, expect, it } from "vitest";
import { parseTopology, TopologyError } from "@tandem/config";
import type { Problem } from "@tandem/config";
import { site, validDocument, yaml } from "./fixtures";

function problemsOf(text: string, env: Record<string, string> = {}): Problem[] {
  try {
    parseTopology(text, { env, sourceName: "test.yaml" });
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyError);
    return (error as TopologyError).problems;
  }
  throw new Error("expected the topology to be rejected");
}

/** The problems as `path: message` lines, without line numbers. */
function messages(text: string, env: Record<string, string> = {}): string[] {
  return problemsOf(text, env).map((p) => (p.path === "" ? p.message : `${p.path}: ${p.message}`));
}

describe("parseTopology: valid documents", () => {
  it("fills in the defaults", () => {
    const topology = parseTopology(yaml(validDocument()));
    expect(topology.sites.map((s) => s.id)).toEqual(["nyc", "lon"]);
    expect(topology.sites[0]?.mergePolicy).toEqual({ kind: "lww" });
    expect(topology.links[0]).toEqual({
      from: "nyc",
      to: "lon",
      streams: ["calls", "users"],
      filters: { tenants: { deny: [] }, groups: { deny: [] } },
      schedule: { kind: "continuous" },
      schedules: {},
      delivery: "at-least-once",
    });
  });

  it("accepts schedule and merge policy shorthands", () => {
    const doc = validDocument();
    doc.links[0] = { from: "nyc", to: "lon", schedule: "manual" };
    doc.links[1] = { from: "lon", to: "nyc", schedule: "continuous", delivery: "exactly-once" };
    doc.sites.forEach((s) => (s.mergePolicy = "manual"));
    const topology = parseTopology(yaml(doc));
    expect(topology.links.map((l) => l.schedule)).toEqual([{ kind: "manual" }, { kind: "continuous" }]);
    expect(topology.links[1]?.delivery).toBe("exactly-once");
    expect(topology.sites[1]?.mergePolicy).toEqual({ kind: "manual" });
  });

  it("accepts time windows, canonicalises the time zone and lower-cases filter UUIDs", () => {
    const doc = validDocument();
    doc.links[0] = {
      from: "nyc",
      to: "lon",
      streams: ["calls"],
      schedule: { kind: "windows", timeZone: "europe/london", windows: [{ start: "22:00", end: "06:00" }] },
      filters: { tenants: { allow: ["3F2C9A1E-8B7D-4C6A-9E5F-1A2B3C4D5E6F"] } },
    };
    const link = parseTopology(yaml(doc)).links[0];
    expect(link?.schedule).toEqual({
      kind: "windows",
      timeZone: "Europe/London",
      windows: [{ start: "22:00", end: "06:00" }],
    });
    expect(link?.filters.tenants).toEqual({ allow: ["3f2c9a1e-8b7d-4c6a-9e5f-1a2b3c4d5e6f"], deny: [] });
    expect(link?.streams).toEqual(["calls"]);
  });

  it("accepts postgres as fields, with the default port", () => {
    const doc = validDocument();
    doc.sites[0]!.postgres = { host: "pg", database: "tandem", user: "tandem", password: "pw" };
    expect(parseTopology(yaml(doc)).sites[0]?.postgres).toEqual({
      host: "pg",
      port: 5432,
      database: "tandem",
      user: "tandem",
      password: "pw",
    });
  });

  it("accepts Kafka TLS and SASL, S3 stores and a priority policy ranking every site", () => {
    const doc = validDocument();
    doc.sites[0]!.kafka = {
      brokers: ["10.0.0.1:9093", "[::1]:9093"],
      ssl: { ca: "/etc/tandem/ca.pem", rejectUnauthorized: true },
      sasl: { mechanism: "scram-sha-512", username: "u", password: "p" },
    };
    doc.sites[1]!.kafka = { brokers: ["kafka.lon.internal:9092"], ssl: true };
    doc.sites[0]!.objectStore = {
      kind: "s3",
      endpoint: "http://minio:9000",
      region: "us-east-1",
      bucket: "tandem-audio",
      accessKeyId: "AK",
      secretAccessKey: "SK",
      forcePathStyle: true,
    };
    doc.sites.forEach((s) => (s.mergePolicy = { kind: "priority", siteOrder: ["lon", "nyc"] }));
    const topology = parseTopology(yaml(doc));
    expect(topology.sites[0]?.kafka.ssl).toEqual({ ca: "/etc/tandem/ca.pem", rejectUnauthorized: true });
    expect(topology.sites[1]?.kafka.ssl).toBe(true);
    expect(topology.sites[0]?.objectStore).toMatchObject({
      kind: "s3",
      bucket: "tandem-audio",
      forcePathStyle: true,
    });
    expect(topology.sites[0]?.mergePolicy).toEqual({ kind: "priority", siteOrder: ["lon", "nyc"] });
  });

  it("ignores top-level x- keys, which hold shared YAML anchors", () => {
    const text = `
x-night: &night
  kind: windows
  timeZone: Asia/Tokyo
  windows: [{ start: "01:00", end: "05:00" }]
${yaml({ sites: validDocument().sites })}
links:
  - { from: nyc, to: lon, schedule: *night }
`;
    expect(parseTopology(text).links[0]?.schedule).toMatchObject({ kind: "windows", timeZone: "Asia/Tokyo" });
  });
});

describe("parseTopology: environment variables", () => {
  it("substitutes ${NAME} anywhere in a string, and converts ports and booleans", () => {
    const doc = validDocument();
    doc.sites[0]!.postgres = {
      host: "${PG_HOST}",
      port: "${PG_PORT}",
      database: "tandem",
      user: "t",
      password: "${PG_PASSWORD}",
    };
    doc.sites[0]!.kafka = { brokers: ["kafka.nyc.internal:9092"], ssl: "${KAFKA_TLS}" };
    doc.sites[1]!.postgres = { connectionString: "postgres://tandem:${LON_PW}@pg.lon:5432/tandem" };
    const topology = parseTopology(yaml(doc), {
      env: { PG_HOST: "pg.nyc", PG_PORT: "6432", PG_PASSWORD: "s3cret", KAFKA_TLS: "true", LON_PW: "pw2" },
    });
    expect(topology.sites[0]?.postgres).toEqual({
      host: "pg.nyc",
      port: 6432,
      database: "tandem",
      user: "t",
      password: "s3cret",
    });
    expect(topology.sites[0]?.kafka.ssl).toBe(true);
    expect(topology.sites[1]?.postgres).toEqual({
      connectionString: "postgres://tandem:pw2@pg.lon:5432/tandem",
    });
  });

  it("names the field and the variable when a variable is missing", () => {
    const doc = validDocument();
    doc.sites[1]!.kafka = {
      brokers: ["kafka.lon.internal:9092"],
      sasl: { mechanism: "plain", username: "u", password: "${LON_KAFKA_PASSWORD}" },
    };
    expect(messages(yaml(doc))).toEqual([
      "sites[1].kafka.sasl.password: environment variable LON_KAFKA_PASSWORD is not set",
    ]);
  });

  it("rejects a malformed reference", () => {
    const doc = validDocument();
    doc.sites[0]!.registry = { url: "http://r:8081", username: "u", password: "${not a name}" };
    expect(messages(yaml(doc))).toEqual([
      'sites[0].registry.password: invalid environment variable reference "${not a name}"',
    ]);
  });

  it("never quotes values that came from the environment, nor secrets, in errors", () => {
    const doc = validDocument();
    doc.sites[0]!.postgres = { connectionString: "${NYC_DB}" };
    doc.sites[1]!.postgres = { host: "pg", port: "${LON_PORT}", database: "d", user: "u" };
    doc.sites[1]!.registry = { url: "http://r:8081", username: "u", password: 12345 };
    const env = { NYC_DB: "mysql://root:hunter2@db/x", LON_PORT: "port-hunter3" };
    let message = "";
    try {
      parseTopology(yaml(doc), { env });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("sites[0].postgres.connectionString: expected a postgres:// URL");
    expect(message).toContain("sites[1].postgres.port: expected number, got string");
    expect(message).toContain("sites[1].registry.password: expected string, got number");
    expect(message).not.toMatch(/hunter|12345/);
  });
});

describe("parseTopology: mistakes", () => {
  const cases: [string, (doc: ReturnType<typeof validDocument>) => void, string[]][] = [
    [
      "unknown site in a link",
      (doc) => (doc.links[0] = { from: "nyc", to: "par" }),
      ['links[0].to: unknown site "par"; declared sites: nyc, lon'],
    ],
    [
      "duplicate site id",
      (doc) => doc.sites.push({ ...site("nyc"), kafka: { brokers: ["other:9092"] } }),
      ['sites[2].id: duplicate site id "nyc" (also sites[0])'],
    ],
    [
      "bad slug",
      (doc) => {
        doc.sites[0]!.id = "New York";
        doc.links = [];
      },
      [
        "sites[0].id: expected a site id: a lower-case letter then 1-30 lower-case letters, digits or '-', got \"New York\"",
      ],
    ],
    [
      "reserved site id",
      (doc) => {
        doc.sites[0]!.id = "tandem";
        doc.links = [];
      },
      ['sites[0].id: is reserved for internal topics, got "tandem"'],
    ],
    [
      "bad time zone",
      (doc) =>
        (doc.links[0]!.schedule = {
          kind: "windows",
          timeZone: "Mars/Olympus",
          windows: [{ start: "01:00", end: "02:00" }],
        }),
      ['links[0].schedule.timeZone: expected an IANA time zone such as Europe/London, got "Mars/Olympus"'],
    ],
    [
      "bad HH:MM",
      (doc) =>
        (doc.links[1]!.schedule = {
          kind: "windows",
          timeZone: "UTC",
          windows: [
            { start: "25:00", end: "02:00" },
            { start: "1:00", end: "02:60" },
          ],
        }),
      [
        'links[1].schedule.windows[0].start: expected HH:MM, got "25:00"',
        'links[1].schedule.windows[1].start: expected HH:MM, got "1:00"',
        'links[1].schedule.windows[1].end: expected HH:MM (24:00 for the end of the day), got "02:60"',
      ],
    ],
    [
      "empty window",
      (doc) =>
        (doc.links[0]!.schedule = {
          kind: "windows",
          timeZone: "UTC",
          windows: [{ start: "02:00", end: "02:00" }],
        }),
      ["links[0].schedule.windows[0].end: equals start; a window needs a length"],
    ],
    [
      "no windows",
      (doc) => (doc.links[0]!.schedule = { kind: "windows", timeZone: "UTC", windows: [] }),
      ["links[0].schedule.windows: list at least one window"],
    ],
    [
      "unknown schedule kind",
      (doc) => (doc.links[0]!.schedule = "nightly"),
      [
        'links[0].schedule.kind: expected one of "continuous", "windows", "periodic", "manual", got "nightly"',
      ],
    ],
    [
      "bad UUID in a filter",
      (doc) =>
        (doc.links[0]!.filters = {
          groups: { deny: ["not-a-uuid", "00000000-0000-0000-0000-000000000000"] },
        }),
      [
        'links[0].filters.groups.deny[0]: expected a UUID, got "not-a-uuid"',
        'links[0].filters.groups.deny[1]: expected a UUID, got "00000000-0000-0000-0000-000000000000"',
      ],
    ],
    [
      "a UUID both allowed and denied",
      (doc) =>
        (doc.links[0]!.filters = {
          tenants: {
            allow: ["3f2c9a1e-8b7d-4c6a-9e5f-1a2b3c4d5e6f"],
            deny: ["3F2C9A1E-8B7D-4C6A-9E5F-1A2B3C4D5E6F"],
          },
        }),
      ["links[0].filters.tenants.deny[0]: 3f2c9a1e-8b7d-4c6a-9e5f-1a2b3c4d5e6f is also in allow"],
    ],
    [
      "an empty allow list",
      (doc) => (doc.links[0]!.filters = { tenants: { allow: [] } }),
      ["links[0].filters.tenants.allow: an empty allow list admits nothing; omit allow to admit all"],
    ],
    [
      "unknown stream",
      (doc) => (doc.links[0]!.streams = ["calls", "voicemail"]),
      ['links[0].streams[1]: expected one of "calls", "users", got "voicemail"'],
    ],
    [
      "stream listed twice",
      (doc) => (doc.links[0]!.streams = ["users", "users"]),
      ["links[0].streams[1]: users is listed twice"],
    ],
    [
      "link to itself",
      (doc) => (doc.links[0] = { from: "nyc", to: "nyc" }),
      ['links[0].to: a link cannot go from "nyc" to itself'],
    ],
    [
      "duplicate link",
      (doc) => doc.links.push({ from: "nyc", to: "lon", streams: ["users"] }),
      ["links[2]: duplicate link nyc -> lon (also links[0])"],
    ],
    [
      "unknown delivery mode",
      (doc) => (doc.links[0]!.delivery = "at-most-once"),
      ['links[0].delivery: expected one of "at-least-once", "exactly-once", got "at-most-once"'],
    ],
    ["unknown field", (doc) => (doc.links[0]!.schedual = "manual"), ["links[0].schedual: unknown field"]],
    [
      "missing required fields",
      (doc) => {
        delete doc.sites[0]!.registry;
        doc.sites[1]!.kafka = { brokers: [] };
      },
      ["sites[0].registry: required", "sites[1].kafka.brokers: list at least one broker"],
    ],
    [
      "bad broker address",
      (doc) => (doc.sites[0]!.kafka = { brokers: ["kafka.nyc.internal"] }),
      ['sites[0].kafka.brokers[0]: expected host:port, got "kafka.nyc.internal"'],
    ],
    [
      "broker shared by two sites",
      (doc) => (doc.sites[1]!.kafka = { brokers: ["KAFKA.nyc.internal:9092"] }),
      ["sites[1].kafka.brokers[0]: broker also used by site nyc; each site needs its own Kafka cluster"],
    ],
    [
      "ssl of the wrong type",
      (doc) => (doc.sites[0]!.kafka = { brokers: ["k:9092"], ssl: "yes" }),
      ["sites[0].kafka.ssl: expected boolean or a mapping, got string"],
    ],
    [
      "unknown field inside ssl",
      (doc) => (doc.sites[0]!.kafka = { brokers: ["k:9092"], ssl: { cafile: "/ca.pem" } }),
      ["sites[0].kafka.ssl.cafile: unknown field"],
    ],
    [
      "unknown SASL mechanism",
      (doc) =>
        (doc.sites[0]!.kafka = {
          brokers: ["k:9092"],
          sasl: { mechanism: "gssapi", username: "u", password: "p" },
        }),
      ['sites[0].kafka.sasl.mechanism: expected one of "scram-sha-256", "scram-sha-512", "plain"'],
    ],
    [
      "registry username without password",
      (doc) => (doc.sites[0]!.registry = { url: "http://r:8081", username: "u" }),
      ["sites[0].registry.password: required when the other credential is set"],
    ],
    [
      "registry URL that is not http(s)",
      (doc) => (doc.sites[0]!.registry = { url: "ftp://r" }),
      ['sites[0].registry.url: expected an http(s) URL, got "ftp://r"'],
    ],
    [
      "postgres with neither form",
      (doc) => (doc.sites[0]!.postgres = { host: "pg" }),
      [
        "sites[0].postgres.database: required unless connectionString is given",
        "sites[0].postgres.user: required unless connectionString is given",
      ],
    ],
    [
      "postgres with both forms",
      (doc) => (doc.sites[0]!.postgres = { connectionString: "postgres://pg/db", host: "pg" }),
      ["sites[0].postgres: give either connectionString or host/port/database/user/password, not both"],
    ],
    [
      "postgres port out of range",
      (doc) => (doc.sites[0]!.postgres = { host: "pg", port: 70000, database: "d", user: "u" }),
      ["sites[0].postgres.port: expected a port 1-65535, got 70000"],
    ],
    [
      "unknown object store kind",
      (doc) => (doc.sites[0]!.objectStore = { kind: "nfs", path: "/x" }),
      ['sites[0].objectStore.kind: expected one of "s3", "directory", got "nfs"'],
    ],
    [
      "S3 secret without access key id",
      (doc) =>
        (doc.sites[0]!.objectStore = { kind: "s3", region: "r", bucket: "audio", secretAccessKey: "x" }),
      ["sites[0].objectStore.accessKeyId: required when the other credential is set"],
    ],
    [
      "bad S3 bucket name",
      (doc) => (doc.sites[0]!.objectStore = { kind: "s3", region: "r", bucket: "Audio_Files" }),
      ['sites[0].objectStore.bucket: expected an S3 bucket name, got "Audio_Files"'],
    ],
    [
      "sites with different merge policies",
      (doc) => (doc.sites[1]!.mergePolicy = { kind: "manual" }),
      [
        "sites[1].mergePolicy: differs from sites[0] (lww); all sites must use the same merge policy to converge",
      ],
    ],
    [
      "priority order that misses a site or names an unknown one",
      (doc) => doc.sites.forEach((s) => (s.mergePolicy = { kind: "priority", siteOrder: ["nyc", "par"] })),
      [
        'sites[0].mergePolicy.siteOrder[1]: unknown site "par"',
        "sites[0].mergePolicy.siteOrder: must rank every site; missing lon",
        'sites[1].mergePolicy.siteOrder[1]: unknown site "par"',
        "sites[1].mergePolicy.siteOrder: must rank every site; missing lon",
      ],
    ],
    ["no sites", (doc) => ((doc.sites = []), (doc.links = [])), ["sites: declare at least one site"]],
  ];

  it.each(cases)("%s", (_name, mutate, expected) => {
    const doc = validDocument();
    mutate(doc);
    expect(messages(yaml(doc)).sort()).toEqual([...expected].sort());
  });

  it("collects every problem, in document order, with its line", () => {
    const text = `sites:
  - id: nyc
    kafka: { brokers: ["k1:9092"] }
    registry: { url: "http://r1:8081" }
    postgres: { connectionString: "postgres://pg1/db" }
    objectStore: { kind: directory, path: /a }
  - id: nyc
    kafka: { brokers: ["k2:9092"] }
    registry: { url: "http://r2:8081" }
    postgres: { connectionString: "postgres://pg2/db" }
    objectStore: { kind: directory, path: /b }
links:
  - from: nyc
    to: lon
  - from: nyc
    to: nyc
    schedule:
      kind: windows
      timeZone: Europe/London
      windows:
        - { start: "25:00", end: "03:00" }
`;
    const problems = problemsOf(text);
    expect(problems).toEqual([
      { path: "sites[1].id", message: 'duplicate site id "nyc" (also sites[0])', line: 7 },
      { path: "links[0].to", message: 'unknown site "lon"; declared sites: nyc', line: 14 },
      { path: "links[1].to", message: 'a link cannot go from "nyc" to itself', line: 16 },
      { path: "links[1].schedule.windows[0].start", message: 'expected HH:MM, got "25:00"', line: 21 },
    ]);
  });

  it("reads as a multi-line message naming the source", () => {
    const doc = validDocument();
    doc.links[0] = { from: "nyc", to: "par" };
    doc.links[1]!.streams = ["sms"];
    expect(() => parseTopology(yaml(doc), { sourceName: "topology.yaml" })).toThrow(
      [
        "Invalid topology topology.yaml: 2 problems",
        '  - links[0].to: unknown site "par"; declared sites: nyc, lon (line 26)',
        '  - links[1].streams[0]: expected one of "calls", "users", got "sms" (line 30)',
      ].join("\n"),
    );
  });

  it("reports a YAML syntax error with its line", () => {
    const text = "sites:\n  - id: nyc\n    kafka: { brokers: [k:9092\nlinks: []\n";
    const problems = problemsOf(text);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]?.message).toMatch(/^YAML syntax error: /);
    expect(problems[0]?.line).toBe(4);
  });

  it("reports a duplicate key as a YAML error", () => {
    const problems = problemsOf("sites: []\nsites: []\n");
    expect(problems).toEqual([{ path: "", message: expect.stringMatching(/unique/), line: 2 }]);
  });

  it("rejects an empty document and a document that is not a mapping", () => {
    expect(messages("")).toEqual(["the document is empty; declare sites and links"]);
    expect(messages("- nyc\n- lon\n")).toEqual(["expected a mapping, got a list"]);
  });
});
