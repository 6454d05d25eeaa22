import { randomUUID } from "node:crypto";
import pg from "pg";
import type { SiteEndpoints } from "@tandem/stack";

/** A new empty database on a site's PostgreSQL, so that a test starts from nothing; dropped by `drop`. */
export async function freshDatabase(
  site: SiteEndpoints,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `tandem_test_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: site.postgres.connectionString });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(site.postgres.connectionString);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: site.postgres.connectionString });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
