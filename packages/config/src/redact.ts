import type { Topology } from "./types";

export const REDACTED = "***";

const SECRET_KEYS = new Set(["password", "secretAccessKey"]);

/** A copy of the topology safe to print or log: passwords, keys and SASL credentials are replaced by `***`. */
export function redactedConfig(config: Topology): Topology {
  return redact(config) as Topology;
}

function redact(node: unknown, key?: string): unknown {
  if (typeof node === "string") {
    if (key !== undefined && SECRET_KEYS.has(key)) return REDACTED;
    if (key === "connectionString") return redactConnectionString(node);
    return node;
  }
  if (Array.isArray(node)) return node.map((item) => redact(item));
  if (node !== null && typeof node === "object") {
    if (key === "sasl") {
      const { mechanism } = node as { mechanism?: unknown };
      return { mechanism, username: REDACTED, password: REDACTED };
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, redact(v, k)]));
  }
  return node;
}

/** Keeps host and database visible (useful in logs) and hides the password. */
function redactConnectionString(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== "") url.password = REDACTED;
    if (url.searchParams.has("password")) url.searchParams.set("password", REDACTED);
    return url.toString();
  } catch {
    return REDACTED;
  }
}
