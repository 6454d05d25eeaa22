/** A registry's Confluent-compatible base URL and its Basic-auth credentials, when it has them. */
export interface RegistryEndpoint {
  url: string;
  auth?: { username: string; password: string } | undefined;
}

export function registryHeaders(registry: RegistryEndpoint): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/vnd.schemaregistry.v1+json" };
  if (registry.auth !== undefined) {
    const token = Buffer.from(`${registry.auth.username}:${registry.auth.password}`).toString("base64");
    headers.authorization = `Basic ${token}`;
  }
  return headers;
}

/** The registry could not be reached or answered with an error while the level was set. Transient. */
export class SubjectCompatibilityError extends Error {
  constructor(subject: string, problem: string, options?: { cause?: unknown }) {
    super(`cannot set BACKWARD compatibility on subject ${subject}: ${problem}`, options);
    this.name = "SubjectCompatibilityError";
  }
}

/**
 * Gives a subject BACKWARD compatibility before its first schema is registered, when it has no level of its
 * own. Setting it after the first registration, as registry clients do, leaves the subject at the
 * registry's default (NONE at Apicurio) for good when the writer dies or the registry fails between the two
 * calls; from then on every registration is refused as a compatibility mismatch. A level already set,
 * whatever it is, is left alone: the registration that follows checks it.
 */
export async function ensureBackwardCompatibility(
  registry: RegistryEndpoint,
  subject: string,
): Promise<void> {
  const url = `${registry.url.replace(/\/+$/, "")}/config/${encodeURIComponent(subject)}`;
  const headers = registryHeaders(registry);
  const request = async (init: RequestInit) => {
    try {
      return await fetch(url, { ...init, headers });
    } catch (error) {
      throw new SubjectCompatibilityError(subject, `registry unreachable (${String(error)})`, {
        cause: error,
      });
    }
  };
  const current = await request({ method: "GET" });
  if (current.ok) return;
  if (current.status !== 404) {
    throw new SubjectCompatibilityError(subject, `reading its level answered HTTP ${current.status}`);
  }
  const set = await request({ method: "PUT", body: JSON.stringify({ compatibility: "BACKWARD" }) });
  // Apicurio answers 409 to all but one of the clients that set the level of a new subject at once.
  if (set.ok || set.status === 409) return;
  throw new SubjectCompatibilityError(
    subject,
    `setting its level answered HTTP ${set.status}: ${await set.text()}`,
  );
}
