import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/** The SASL/SCRAM user of a secure stack's brokers, and the password of its TLS keystores. */
export interface KafkaCredentials {
  username: string;
  password: string;
  keystorePassword: string;
}

/**
 * Secrets of the local stack, generated once per data directory and kept in a file only its owner can read,
 * so that no credential lives in code. `kafka` is added the first time a stack runs in secure mode.
 */
export interface StackCredentials {
  postgres: { user: string; password: string };
  s3: { accessKeyId: string; secretAccessKey: string };
  kafka?: KafkaCredentials;
}

export function credentialsFile(dataDir: string): string {
  return path.join(dataDir, "credentials.json");
}

/** Hex only: the storage tool's `--add-scram` syntax splits on ',' and '='. */
const secret = (bytes: number) => randomBytes(bytes).toString("hex");

function writeCredentials(file: string, credentials: StackCredentials): void {
  // Written aside and renamed, so that a reader never sees half a file.
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  fs.renameSync(temporary, file);
}

export function loadOrCreateCredentials(
  dataDir: string,
  options: { kafka?: boolean } = {},
): StackCredentials {
  const file = credentialsFile(dataDir);
  let credentials: StackCredentials;
  if (fs.existsSync(file)) {
    credentials = JSON.parse(fs.readFileSync(file, "utf8")) as StackCredentials;
    if (!options.kafka || credentials.kafka !== undefined) return credentials;
  } else {
    credentials = {
      postgres: { user: "tandem", password: randomBytes(18).toString("base64url") },
      s3: {
        accessKeyId: `tandem${randomBytes(6).toString("hex")}`,
        secretAccessKey: randomBytes(24).toString("base64url"),
      },
    };
  }
  if (options.kafka) {
    credentials.kafka = { username: "tandem", password: secret(18), keystorePassword: secret(18) };
  }
  fs.mkdirSync(dataDir, { recursive: true });
  writeCredentials(file, credentials);
  return credentials;
}
