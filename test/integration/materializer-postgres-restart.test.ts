import { expect, it } from "vitest";
import { createPool, inTransaction } from "../../services/materializer/src/db/pool";
import { freshDatabase } from "../support/databases";
import { until } from "../support/wait";
import { stack } from "../support/stack";

const test = await stack();
const sfo = test.site("sfo");

it("PostgreSQL restarting under a checked-out client fails that transaction, not the process; the pool recovers", async () => {
  const database = await freshDatabase(sfo);
  const pool = createPool({ connectionString: database.url }, 2);
  try {
    await pool.query("CREATE TABLE marks (n int)");
    const transaction = inTransaction(pool, async (client) => {
      await client.query("INSERT INTO marks VALUES (1)");
      // The server goes away between two queries of the transaction: its goodbye reaches an idle client.
      await test.stop("sfo", "postgres");
      await client.query("INSERT INTO marks VALUES (2)");
    });
    await expect(transaction).rejects.toThrow();
    await test.start("sfo", "postgres");
    await until("the pool to reach PostgreSQL again", () =>
      pool.query("SELECT 1").then(
        () => true,
        () => false,
      ),
    );
    const { rows } = await pool.query<{ n: number }>("SELECT n FROM marks");
    expect(rows).toEqual([]);
  } finally {
    await pool.end();
    await database.drop();
  }
}, 120_000);
