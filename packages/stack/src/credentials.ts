import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * Secrets of the local stack, generated once per data directory and kept in a file only its owner can read,
 * so that no credential lives in code.
 */
export interface StackCredentials {
  postgres: { user: string; password: string };
  s3: { accessKeyId: string; secretAccessKey: string };
}

export function credentialsFile(dataDir: string): string {
  return path.join(dataDir, "credentials.json");
}

export function loadOrCreateCredentials(dataDir: string): StackCredentials {
  const file = credentialsFile(dataDir);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as StackCredentials;
  const credentials: StackCredentials = {
    postgres: { user: "tandem", password: randomBytes(18).toString("base64url") },
    s3: {
      accessKeyId: `tandem${randomBytes(6).toString("hex")}`,
      secretAccessKey: randomBytes(24).toString("base64url"),
    },
  };
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  return credentials;
}
