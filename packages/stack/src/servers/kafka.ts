import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { Kafka, logLevel } from "kafkajs";
import { serverDir } from "../layout";
import { startDetached, waitUntil } from "../processes";
import type { LocalServer, SiteContext } from "./context";

/** A single combined broker/controller in KRaft mode; internal topics get replication factor 1. */
function serverProperties(ctx: SiteContext, logDir: string): string {
  const { kafka, kafkaController } = ctx.ports;
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${kafkaController}`,
    `listeners=PLAINTEXT://127.0.0.1:${kafka},CONTROLLER://127.0.0.1:${kafkaController}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${kafka}`,
    "controller.listener.names=CONTROLLER",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "inter.broker.listener.name=PLAINTEXT",
    `log.dirs=${logDir}`,
    "num.partitions=3",
    "auto.create.topics.enable=false",
    "offsets.topic.replication.factor=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "group.initial.rebalance.delay.ms=0",
    "",
  ].join("\n");
}

const LOG4J2_PROPERTIES = [
  "rootLogger.level=INFO",
  "rootLogger.appenderRef.stdout.ref=STDOUT",
  "appender.stdout.type=Console",
  "appender.stdout.name=STDOUT",
  "appender.stdout.layout.type=PatternLayout",
  "appender.stdout.layout.pattern=[%d] %p %m (%c)%n",
  "logger.kafka.name=kafka",
  "logger.kafka.level=WARN",
  "logger.apache.name=org.apache.kafka",
  "logger.apache.level=WARN",
  "",
].join("\n");

export function kafkaServer(ctx: SiteContext): LocalServer {
  const dir = serverDir(ctx.dataDir, ctx.site, "kafka");
  const logDir = path.join(dir, "data");
  const propertiesFile = path.join(dir, "server.properties");
  const log4jFile = path.join(dir, "log4j2.properties");
  const proc = { name: `${ctx.site} kafka`, dir, marker: propertiesFile, stopSignal: "SIGTERM" as const };
  const port = ctx.ports.kafka;

  return {
    proc,
    port,
    async start(runtime) {
      const jvm = (heap: string) => [
        `-Xmx${heap}`,
        `-Dlog4j2.configurationFile=${log4jFile}`,
        "-cp",
        runtime.artifacts.kafkaClasspath,
      ];
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(propertiesFile, serverProperties(ctx, logDir));
      fs.writeFileSync(log4jFile, LOG4J2_PROPERTIES);
      if (!fs.existsSync(path.join(logDir, "meta.properties"))) {
        // A base64url id may start with '-': passed as --cluster-id=<id> so it is never read as a flag.
        const clusterId = randomBytes(16).toString("base64url");
        const format = spawnSync(
          runtime.java,
          [
            ...jvm("256m"),
            "kafka.tools.StorageTool",
            "format",
            `--cluster-id=${clusterId}`,
            "-c",
            propertiesFile,
          ],
          { encoding: "utf8" },
        );
        if (format.status !== 0) {
          throw new Error(
            `${proc.name}: formatting storage failed: ${`${format.stderr}${format.stdout}`.trim()}`,
          );
        }
      }
      startDetached(proc, runtime.java, [...jvm("512m"), "kafka.Kafka", propertiesFile]);
    },
    async waitReady(timeoutMs) {
      const kafka = new Kafka({
        clientId: "tandem-stack",
        brokers: [`127.0.0.1:${port}`],
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        connectionTimeout: 2000,
      });
      await waitUntil(
        proc,
        `answer on port ${port}`,
        async () => {
          const admin = kafka.admin();
          await admin.connect();
          try {
            const cluster = await admin.describeCluster();
            return cluster.brokers.length > 0 && cluster.controller !== null;
          } finally {
            await admin.disconnect();
          }
        },
        timeoutMs,
      );
    },
  };
}
