import type Database from "libsql";

/**
 * Brings a database up to `target` (all of `migrations` by default), each
 * migration in its own transaction together with its `user_version` bump, so
 * a crash mid-way leaves a consistent version. Refuses a database written by
 * a newer version of the gateway rather than guessing at its schema.
 * Never edit a released migration: append a new one.
 */
export function runMigrations(
  db: Database.Database,
  migrations: readonly string[],
  what: string,
  target = migrations.length,
): void {
  const latest = migrations.length;
  const current = readUserVersion(db);
  if (current > latest)
    throw new Error(`${what} schema version ${current} is newer than this gateway supports (${latest})`);
  for (let version = current; version < Math.min(target, latest); version++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(migrations[version]!);
      // PRAGMA takes no bound parameters; the value is our own integer.
      db.exec(`PRAGMA user_version = ${version + 1}`);
      db.exec("COMMIT");
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw error;
    }
  }
}

function readUserVersion(db: Database.Database): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number } | undefined;
  return row?.user_version ?? 0;
}
