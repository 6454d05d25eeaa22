import type { RegistryConfig } from "./types";

/** Basic-auth credentials for a site's schema registry, when its configuration has them. */
export function registryAuthOf(registry: RegistryConfig): { username: string; password: string } | undefined {
  return registry.username === undefined
    ? undefined
    : { username: registry.username, password: registry.password ?? "" };
}
