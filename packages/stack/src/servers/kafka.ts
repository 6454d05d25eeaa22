import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { Kafka, logLevel, type KafkaConfig } from "kafkajs";
import type { KafkaCredentials } from "../credentials";
import { caCertificateFile, serverDir } from "../layout";
import { startDetached, waitUntil } from "../processes";
import { log4j2Properties } from "../log4j";
import { ensureBrokerKeystore, keytoolFor } from "../tls";
import type { LocalServer, SiteContext } from "./context";
import { scramFormatArgs, serverProperties, type BrokerTls } from "./kafka-properties";

const LOG4J2_PROPERTIES = log4j2Properties({ kafka: "kafka", apache: "org.apache.kafka" });

/** The secure stack's Kafka credentials; the stack creates them before it starts a secure broker. */
export function kafkaCredentialsOf(ctx: SiteContext): KafkaCredentials {
  const { kafka } = ctx.credentials;
  if (kafka === undefined)
    throw new Error(`${ctx.site} kafka: the stack has no Kafka credentials for secure mode`);
  return kafka;
}

/** Who may connect: over TLS with SCRAM in secure mode, plaintext otherwise. */
function clientSecurity(ctx: SiteContext): Pick<KafkaConfig, "ssl" | "sasl"> {
  if (!ctx.secure) return {};
  const { username, password } = kafkaCredentialsOf(ctx);
  return {
    ssl: { ca: fs.readFileSync(caCertificateFile(ctx.dataDir), "utf8") },
    sasl: { mechanism: "scram-sha-512", username, password },
  };
}

export function kafkaServer(ctx: SiteContext): LocalServer {
  const dir = serverDir(ctx.dataDir, ctx.site, "kafka");
  const logDir = path.join(dir, "data");
  const propertiesFile = path.join(dir, "server.properties");
  const log4jFile = path.join(dir, "log4j2.properties");
  // Written when storage is formatted with SCRAM credentials: a secure broker needs them to admit anyone.
  const scramMarker = path.join(dir, "scram-credentials");
  const proc = { name: `${ctx.site} kafka`, dir, marker: propertiesFile, stopSignal: "SIGTERM" as const };
  const port = ctx.ports.kafka;

  const formatted = () => fs.existsSync(path.join(logDir, "meta.properties"));

  function refuseStorageWithoutScram(): void {
    if (!ctx.secure || !formatted() || fs.existsSync(scramMarker)) return;
    throw new Error(
      `${proc.name}: its storage (${logDir}) was formatted in plain mode, without the SCRAM credentials a ` +
        `secure broker needs to admit clients. Delete that directory so that it is formatted again ` +
        `(its topics are lost), or keep this stack in plain mode ('stack up --no-secure').`,
    );
  }

  return {
    proc,
    port,
    async start(runtime) {
      refuseStorageWithoutScram();
      const jvm = (heap: string) => [
        ...runtime.javaOptions,
        `-Xmx${heap}`,
        `-Dlog4j2.configurationFile=${log4jFile}`,
        "-cp",
        runtime.artifacts.kafkaClasspath,
      ];
      fs.mkdirSync(dir, { recursive: true });
      let tls: BrokerTls | undefined;
      if (ctx.secure) {
        const { keystorePassword } = kafkaCredentialsOf(ctx);
        const keystore = ensureBrokerKeystore(
          ctx.dataDir,
          ctx.site,
          path.join(dir, "tls"),
          keytoolFor(runtime.java),
          keystorePassword,
        );
        tls = { keystore, password: keystorePassword };
      }
      // Secure properties hold the keystore password: owner only, also when the file predates secure mode.
      fs.writeFileSync(
        propertiesFile,
        serverProperties({ ports: ctx.ports, logDir, tls, wanListeners: ctx.wanListeners }),
        { mode: 0o600 },
      );
      fs.chmodSync(propertiesFile, 0o600);
      fs.writeFileSync(log4jFile, LOG4J2_PROPERTIES);
      if (!formatted()) {
        // A base64url id may start with '-': passed as --cluster-id=<id> so it is never read as a flag.
        const clusterId = randomBytes(16).toString("base64url");
        const scram = ctx.secure
          ? scramFormatArgs(kafkaCredentialsOf(ctx).username, kafkaCredentialsOf(ctx).password)
          : [];
        const format = spawnSync(
          runtime.java,
          [
            ...jvm("256m"),
            "kafka.tools.StorageTool",
            "format",
            `--cluster-id=${clusterId}`,
            "-c",
            propertiesFile,
            ...scram,
          ],
          { encoding: "utf8" },
        );
        if (format.status !== 0) {
          const output = `${format.stderr}${format.stdout}`.trim();
          const password = ctx.credentials.kafka?.password;
          const shown = password === undefined ? output : output.replaceAll(password, "***");
          throw new Error(`${proc.name}: formatting storage failed: ${shown}`);
        }
        if (ctx.secure) fs.writeFileSync(scramMarker, `${kafkaCredentialsOf(ctx).username}\n`);
      }
      startDetached(proc, runtime.java, [...jvm("512m"), "kafka.Kafka", propertiesFile]);
    },
    async waitReady(timeoutMs) {
      const kafka = new Kafka({
        clientId: "tandem-stack",
        brokers: [`127.0.0.1:${port}`],
        ...clientSecurity(ctx),
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        connectionTimeout: 2000,
      });
      await waitUntil(
        proc,
        `answer on port ${port}`,
        async () => {
          const admin = kafka.admin();
          // A connect that fails half-way leaves a socket open, which would keep `stack up` from exiting.
          try {
            await admin.connect();
            const cluster = await admin.describeCluster();
            if (cluster.brokers.length === 0 || cluster.controller === null) return false;
            // A restarted broker answers before it serves its partitions again (it replays its metadata and
            // loads its logs first): until then clients are told "This server does not host this
            // topic-partition" or "is not the leader", and kafkajs gives up after its retries. Reading
            // every partition's offsets succeeds only once each is served.
            const topics = await admin.listTopics();
            await Promise.all(topics.map((topic) => admin.fetchTopicOffsets(topic)));
            return true;
          } finally {
            await admin.disconnect();
          }
        },
        timeoutMs,
      );
    },
  };
}
