import fs from "node:fs";
import path from "node:path";
import { credentialsFile, type StackCredentials } from "@tandem/stack";

/** Every secret a local stack handed out (Kafka's only when it ran secure). */
export function stackSecrets(dataDir: string): string[] {
  const credentials = JSON.parse(fs.readFileSync(credentialsFile(dataDir), "utf8")) as StackCredentials;
  const kafka =
    credentials.kafka === undefined ? [] : [credentials.kafka.password, credentials.kafka.keystorePassword];
  return [
    credentials.postgres.password,
    credentials.s3.accessKeyId,
    credentials.s3.secretAccessKey,
    ...kafka,
  ];
}

/** The log files (`*.log`) of `dir` in which any of the secrets appears. */
export function logsLeakingSecrets(dir: string, secrets: readonly string[]): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(".log"))
    .filter((name) => {
      const text = fs.readFileSync(path.join(dir, name), "utf8");
      return secrets.some((secret) => text.includes(secret));
    });
}
