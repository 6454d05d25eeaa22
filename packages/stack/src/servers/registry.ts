import fs from "node:fs";
import { serverDir } from "../layout";
import { startDetached, waitUntil } from "../processes";
import type { LocalServer, SiteContext } from "./context";

/** The Confluent-compatible API of Apicurio Registry, which @kafkajs/confluent-schema-registry talks to. */
export function registryUrl(port: number): string {
  return `http://127.0.0.1:${port}/apis/ccompat/v7`;
}

/**
 * Apicurio opens 20 connections at start and gives up on its first query after 5 s without one: on a
 * machine busy starting other servers it exited while starting. A few connections, and time to open them.
 */
const DATASOURCE_POOL = [
  "-Dapicurio.datasource.jdbc.initial-size=2",
  "-Dapicurio.datasource.jdbc.min-size=2",
  "-Dapicurio.datasource.jdbc.max-size=20",
  "-Dquarkus.datasource.postgresql.jdbc.acquisition-timeout=60S",
];

/** Apicurio Registry, storing schemas in the site's PostgreSQL so that ids survive a restart. */
export function registryServer(ctx: SiteContext): LocalServer {
  const dir = serverDir(ctx.dataDir, ctx.site, "registry");
  const proc = { name: `${ctx.site} registry`, dir, marker: dir, stopSignal: "SIGTERM" as const };
  const port = ctx.ports.registry;

  return {
    proc,
    port,
    async start(runtime) {
      fs.mkdirSync(dir, { recursive: true });
      // Credentials go through the environment, not the command line, so `ps` does not show them.
      const env = {
        ...process.env,
        QUARKUS_HTTP_HOST: "127.0.0.1",
        QUARKUS_HTTP_PORT: String(port),
        APICURIO_STORAGE_KIND: "sql",
        APICURIO_STORAGE_SQL_KIND: "postgresql",
        APICURIO_DATASOURCE_URL: `jdbc:postgresql://127.0.0.1:${ctx.ports.postgres}/registry`,
        APICURIO_DATASOURCE_USERNAME: ctx.credentials.postgres.user,
        APICURIO_DATASOURCE_PASSWORD: ctx.credentials.postgres.password,
      };
      startDetached(
        proc,
        runtime.java,
        [
          ...runtime.javaOptions,
          "-Xmx384m",
          `-Dtandem.stack.dir=${dir}`,
          ...DATASOURCE_POOL,
          "-jar",
          runtime.artifacts.apicurioRunner,
        ],
        env,
      );
    },
    async waitReady(timeoutMs) {
      await waitUntil(
        proc,
        `answer on port ${port}`,
        async () => (await fetch(`${registryUrl(port)}/subjects`)).ok,
        timeoutMs,
      );
    },
  };
}
