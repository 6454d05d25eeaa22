import pg from "pg";
import type { PostgresConfig } from "@tandem/config";

// bigint columns (offsets, sizes) come back as numbers: they stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createPool(config: PostgresConfig, max = 10, connectionTimeoutMillis = 5000): pg.Pool {
  const pool = new pg.Pool({ ...config, max, connectionTimeoutMillis });
  // A client losing its connection (PostgreSQL restarted) must not crash the process, idle or checked out:
  // pg emits 'error' on it, sometimes when nobody listens (seen in the soak: a restart of a site's
  // PostgreSQL ended its materializer). The query in progress or the next one fails instead.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}

/**
 * Runs `work` with a client of the pool. A connection lost while the client is checked out but between
 * queries (PostgreSQL restarting) is an 'error' event: it marks the client broken, the next query fails
 * instead, and the client is destroyed rather than reused.
 */
export async function withClient<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient, markBroken: (error: Error) => void) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const markBroken = (error: Error) => {
    broken ??= error;
  };
  client.on("error", markBroken);
  try {
    return await work(client, markBroken);
  } finally {
    // A destroyed client may still report its closing connection: it keeps the listener.
    if (broken === undefined) client.off("error", markBroken);
    client.release(broken);
  }
}

/** Runs `work` in one transaction on one client; rolls back on any error. */
export function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client, markBroken) => {
    await client.query("BEGIN");
    try {
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      // A client whose rollback fails has lost its connection.
      await client.query("ROLLBACK").catch(markBroken);
      throw error;
    }
  });
}
