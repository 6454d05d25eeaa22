import fs from "node:fs";
import type { ConnectionOptions } from "node:tls";
import kafkajs, {
  Kafka,
  logLevel,
  type KafkaConfig as KafkaJsConfig,
  type LogEntry,
  type SASLOptions,
} from "kafkajs";
import SnappyCodec from "kafkajs-snappy";
import type { KafkaConfig } from "@tandem/config";
import type { Logger } from "@tandem/runtime";

// kafkajs reads gzip only; recorders' clients may compress with snappy (franz-go does by default), and a
// batch no consumer can read would stall the site's materializer and links for good.
kafkajs.CompressionCodecs[kafkajs.CompressionTypes.Snappy] = SnappyCodec;

function tlsOptions(ssl: KafkaConfig["ssl"]): boolean | ConnectionOptions | undefined {
  if (ssl === undefined || typeof ssl === "boolean") return ssl;
  const read = (file: string | undefined) => (file === undefined ? undefined : fs.readFileSync(file, "utf8"));
  return {
    ca: read(ssl.ca),
    cert: read(ssl.cert),
    key: read(ssl.key),
    rejectUnauthorized: ssl.rejectUnauthorized ?? true,
  };
}

function saslOptions(sasl: KafkaConfig["sasl"]): SASLOptions | undefined {
  if (sasl === undefined) return undefined;
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case "scram-sha-256":
      return { mechanism: "scram-sha-256", username, password };
    case "scram-sha-512":
      return { mechanism: "scram-sha-512", username, password };
    case "plain":
      return { mechanism: "plain", username, password };
  }
}

const LEVELS: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/**
 * kafkajs logs through the service logger; its connection errors are expected during an outage and
 * are reported by the link state instead, so they go out at debug level.
 */
function logCreator(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const target = level === logLevel.ERROR ? "debug" : (LEVELS[level] ?? "debug");
      logger[target]({ kafkajs: extra }, message);
    };
}

/** Ten retries give up after about 9 s, as five growing to 10 s did. */
const DEFAULT_RETRIES = 10;
export const MAX_RETRY_MS = 1_000;

/**
 * A kafkajs client for one site's cluster, with TLS and SASL/SCRAM as configured. `retries` sets how long it
 * keeps trying a broker it cannot reach (at most a second apart) before its caller sees the error.
 */
export function createKafka(
  config: KafkaConfig,
  clientId: string,
  logger: Logger,
  retries = DEFAULT_RETRIES,
): Kafka {
  const options: KafkaJsConfig = {
    clientId,
    brokers: config.brokers,
    ssl: tlsOptions(config.ssl),
    sasl: saslOptions(config.sasl),
    logLevel: logLevel.WARN,
    logCreator: logCreator(logger),
    connectionTimeout: 5000,
    requestTimeout: 30000,
    // At most a second between attempts, as Kafka's own clients (retry.backoff.max.ms): a healed link or a
    // restarted broker is used again within a second, not after a wait of up to 10 s (bench/wan.ts, drain).
    retry: { initialRetryTime: 300, retries, maxRetryTime: MAX_RETRY_MS },
  };
  return new Kafka(options);
}
