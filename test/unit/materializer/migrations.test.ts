import { describe, expect, it } from "vitest";
import {
  MigrationError,
  orderMigrations,
  pendingMigrations,
} from "../../../services/materializer/src/db/migration-plan";
import { readMigrationFiles } from "../../../services/materializer/src/db/migrate";

describe("migration planning", () => {
  it("orders migrations by version, not by the order the files were listed", () => {
    const ordered = orderMigrations([
      { name: "0010_later.sql", sql: "b" },
      { name: "0002_second.sql", sql: "a" },
    ]);
    expect(ordered.map((m) => m.version)).toEqual([2, 10]);
  });

  it("refuses badly named files and duplicate versions", () => {
    expect(() => orderMigrations([{ name: "init.sql", sql: "" }])).toThrow(MigrationError);
    expect(() =>
      orderMigrations([
        { name: "0001_a.sql", sql: "" },
        { name: "0001_b.sql", sql: "" },
      ]),
    ).toThrow(/same version 1/);
  });

  it("runs only what is not applied, and refuses an applied migration that changed or is unknown", () => {
    const migrations = orderMigrations([
      { name: "0001_a.sql", sql: "one" },
      { name: "0002_b.sql", sql: "two" },
    ]);
    const first = migrations[0]!;
    expect(pendingMigrations(migrations, []).map((m) => m.name)).toEqual(["0001_a.sql", "0002_b.sql"]);
    expect(pendingMigrations(migrations, [first]).map((m) => m.name)).toEqual(["0002_b.sql"]);
    expect(() => pendingMigrations(migrations, [{ ...first, checksum: "x" }])).toThrow(/changed/);
    expect(() => pendingMigrations(migrations, [{ version: 3, name: "0003_c.sql", checksum: "x" }])).toThrow(
      /does not know/,
    );
  });

  it("the shipped migrations are well formed", () => {
    expect(orderMigrations(readMigrationFiles()).map((m) => m.version)[0]).toBe(1);
  });
});
