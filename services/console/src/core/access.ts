import { timingSafeEqual, createHash } from "node:crypto";

export type Role = "viewer" | "admin";

export interface Credentials {
  /** Required: the console never runs without a login. */
  adminPassword: string;
  /** Without it, there is no viewer login. */
  viewerPassword: string | undefined;
}

export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListen(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || !(port > 0 && port < 65536)) throw new Error(`--listen: expected host:port, got "${text}"`);
  return { host: match[1] ?? match[2]!, port };
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Why the console must not start, if it must not: off the loopback interface it needs both passwords from
 * the environment (a generated one would be known to nobody who could be reached there).
 */
export function refusal(listen: ListenAddress, fromEnvironment: Partial<Credentials>): string | undefined {
  if (isLoopback(listen.host)) return undefined;
  if (!fromEnvironment.adminPassword || !fromEnvironment.viewerPassword) {
    return `refusing to listen on ${listen.host} (not loopback) without TANDEM_CONSOLE_ADMIN_PASSWORD and TANDEM_CONSOLE_VIEWER_PASSWORD`;
  }
  return undefined;
}

// Hashes first so that the comparison takes the same time whatever the lengths.
const digest = (text: string) => createHash("sha256").update(text).digest();

/** The role a login as `user` with `password` opens, if any. */
export function roleFor(credentials: Credentials, user: string, password: string): Role | undefined {
  const matches = (expected: string | undefined) =>
    expected !== undefined && expected !== "" && timingSafeEqual(digest(expected), digest(password));
  if (user === "admin" && matches(credentials.adminPassword)) return "admin";
  if (user === "viewer" && matches(credentials.viewerPassword)) return "viewer";
  return undefined;
}

const SECRET_KEYS = new Set(["password", "secretAccessKey", "accessKeyId", "username", "connectionString"]);

/**
 * Every credential a topology holds (passwords, keys, SASL users, connection strings and the passwords in
 * them), so that nothing the console sends can carry one.
 */
export function secretsOf(topology: unknown): string[] {
  const found = new Set<string>();
  const walk = (node: unknown, key?: string) => {
    if (typeof node === "string") {
      if (key === undefined || !SECRET_KEYS.has(key) || node === "") return;
      found.add(node);
      if (key === "connectionString") {
        try {
          const url = new URL(node);
          if (url.password !== "") found.add(decodeURIComponent(url.password));
          const inQuery = url.searchParams.get("password");
          if (inQuery) found.add(inQuery);
        } catch {
          // Not a URL: the whole string is already listed.
        }
      }
    } else if (Array.isArray(node)) node.forEach((item) => walk(item));
    else if (node !== null && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) walk(v, k);
    }
  };
  walk(topology);
  return [...found];
}

/** Text with every secret replaced, for error messages that are shown in the page. */
export function withoutSecrets(text: string, secrets: readonly string[]): string {
  let result = text;
  // Longest first, so that a connection string is hidden whole before the password inside it.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length))
    result = result.split(secret).join("***");
  return result;
}
