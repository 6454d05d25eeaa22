import { randomBytes } from "node:crypto";
import net from "node:net";
import { GenericContainer, Wait, getContainerRuntimeClient, type StartedTestContainer } from "testcontainers";
import { bucketName, versions, type ServerKind, type StackEndpoints } from "@tandem/stack";
import { containerKey } from "./test-stack";

/** The same servers as the local stack, from official images, for machines with a Docker engine. */
const IMAGES = {
  kafka: `apache/kafka:${versions.KAFKA_VERSION}`,
  registry: `apicurio/apicurio-registry:${versions.APICURIO_VERSION}`,
  postgres: "postgres:16",
  s3: "minio/minio:latest",
};

export async function dockerReachable(): Promise<boolean> {
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export async function startContainerStack(
  sites: string[],
): Promise<{ endpoints: StackEndpoints; ids: Record<string, string>; stop: () => Promise<void> }> {
  const started: StartedTestContainer[] = [];
  const ids: Record<string, string> = {};
  const endpoints: StackEndpoints = { sites: [] };
  const password = randomBytes(12).toString("hex");
  const accessKeyId = `tandem${randomBytes(4).toString("hex")}`;
  const secretAccessKey = randomBytes(16).toString("hex");
  for (const site of sites) {
    // Kafka advertises the host port, so the mapping is fixed before the container starts.
    const kafkaPort = await freePort();
    const kafka = await new GenericContainer(IMAGES.kafka)
      .withExposedPorts({ container: 9092, host: kafkaPort })
      .withEnvironment({
        KAFKA_NODE_ID: "1",
        KAFKA_PROCESS_ROLES: "broker,controller",
        KAFKA_LISTENERS: "PLAINTEXT://:9092,CONTROLLER://:9093",
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: "CONTROLLER",
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        KAFKA_CONTROLLER_QUORUM_VOTERS: "1@localhost:9093",
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: "1",
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: "1",
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: "1",
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false",
        KAFKA_NUM_PARTITIONS: "3",
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start();
    const postgres = await new GenericContainer(IMAGES.postgres)
      .withExposedPorts(5432)
      .withEnvironment({ POSTGRES_USER: "tandem", POSTGRES_PASSWORD: password, POSTGRES_DB: "tandem" })
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    const registry = await new GenericContainer(IMAGES.registry)
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forHttp("/apis/ccompat/v7/subjects", 8080))
      .start();
    const minio = await new GenericContainer(IMAGES.s3)
      .withCommand(["server", "/data"])
      .withExposedPorts(9000)
      .withEnvironment({ MINIO_ROOT_USER: accessKeyId, MINIO_ROOT_PASSWORD: secretAccessKey })
      .withWaitStrategy(Wait.forHttp("/minio/health/ready", 9000))
      .start();
    await minio.exec(["mkdir", "-p", `/data/${bucketName(site)}`]);
    started.push(kafka, postgres, registry, minio);
    const byKind: Record<ServerKind, StartedTestContainer> = { kafka, postgres, registry, s3: minio };
    for (const [kind, container] of Object.entries(byKind))
      ids[containerKey(site, kind as ServerKind)] = container.getId();
    endpoints.sites.push({
      site,
      kafka: { brokers: [`127.0.0.1:${kafkaPort}`] },
      registry: { url: `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7` },
      postgres: {
        connectionString: `postgres://tandem:${password}@${postgres.getHost()}:${postgres.getMappedPort(5432)}/tandem`,
        database: "tandem",
      },
      objectStore: {
        kind: "s3",
        endpoint: `http://${minio.getHost()}:${minio.getMappedPort(9000)}`,
        region: "us-east-1",
        bucket: bucketName(site),
        accessKeyId,
        secretAccessKey,
        forcePathStyle: true,
      },
    });
  }
  return {
    endpoints,
    ids,
    stop: async () => {
      await Promise.all(started.map((c) => c.stop()));
    },
  };
}

export function containerControl(ids: Record<string, string>) {
  const container = async (site: string, kind: ServerKind) => {
    const id = ids[containerKey(site, kind)];
    if (!id) throw new Error(`no container for ${site} ${kind}`);
    const client = await getContainerRuntimeClient();
    return client.container.getById(id);
  };
  return {
    stop: async (site: string, kind: ServerKind) => {
      await (await container(site, kind)).stop();
    },
    kill: async (site: string, kind: ServerKind) => {
      await (await container(site, kind)).kill();
    },
    start: async (site: string, kind: ServerKind) => {
      await (await container(site, kind)).start();
    },
  };
}
