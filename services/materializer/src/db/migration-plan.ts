/** Which migrations to run, decided from the files and the `schema_migrations` rows: pure. */
import { createHash } from "node:crypto";

export interface MigrationFile {
  name: string;
  sql: string;
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}

/** Migrations ordered by version; refuses bad names and duplicate versions. */
export function orderMigrations(files: readonly MigrationFile[]): Migration[] {
  const byVersion = new Map<number, Migration>();
  for (const file of files) {
    const match = FILE_NAME.exec(file.name);
    if (match === null) {
      throw new MigrationError(`migration file ${file.name} is not named NNNN_name.sql`);
    }
    const version = Number(match[1]);
    const existing = byVersion.get(version);
    if (existing !== undefined) {
      throw new MigrationError(
        `migrations ${existing.name} and ${file.name} have the same version ${version}`,
      );
    }
    byVersion.set(version, {
      version,
      name: file.name,
      sql: file.sql,
      checksum: createHash("sha256").update(file.sql).digest("hex"),
    });
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

/**
 * The migrations still to run, in order. An applied migration whose file changed or disappeared is an
 * error: the database would no longer match the code's idea of the schema.
 */
export function pendingMigrations(
  migrations: readonly Migration[],
  applied: readonly AppliedMigration[],
): Migration[] {
  const known = new Map(migrations.map((m) => [m.version, m]));
  for (const done of applied) {
    const migration = known.get(done.version);
    if (migration === undefined) {
      throw new MigrationError(
        `the database has migration ${done.version} (${done.name}), which this version does not know: ` +
          `run a newer materializer`,
      );
    }
    if (migration.checksum !== done.checksum) {
      throw new MigrationError(`migration ${migration.name} changed after it was applied`);
    }
  }
  const appliedVersions = new Set(applied.map((a) => a.version));
  return migrations.filter((m) => !appliedVersions.has(m.version));
}
