import type Database from "libsql";
import { runMigrations } from "../../shared/sqlite/migrations.ts";

/**
 * Schema migrations of sessions.db, applied in order; `PRAGMA user_version`
 * holds how many have run. Never edit a released migration: append one.
 */
const migrations: readonly string[] = [
  // v1.
  // - sessions: the highest write sequence applied to each session (the
  //   tiered store orders batches by it), and `fault` when the session's
  //   bookkeeping could not be read (an upgrade from a corrupt disk index):
  //   where the copy was kept, so the session is reported corrupt, not empty.
  // - entries: one row per key (its UTF-8 bytes: a key may hold NUL, which
  //   SQLite text would cut), its value in Baileys' BufferJSON text and the
  //   sequence of the write that produced it. `value` NULL: the value did not
  //   decode and was kept aside in kept_aside; reads report it corrupt until
  //   the key is written again.
  // - kept_aside: every undecodable value, never deleted (an operator may
  //   want it back).
  `
  CREATE TABLE sessions (
    session TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    fault TEXT
  ) STRICT;
  CREATE TABLE entries (
    session TEXT NOT NULL,
    key BLOB NOT NULL,
    version INTEGER NOT NULL,
    value TEXT,
    PRIMARY KEY (session, key)
  ) STRICT;
  CREATE TABLE kept_aside (
    id INTEGER PRIMARY KEY,
    session TEXT NOT NULL,
    key BLOB,
    value TEXT,
    detail TEXT NOT NULL,
    at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX kept_aside_by_key ON kept_aside (session, key);
  `,
];

/** Brings the database up to date. */
export function migrate(db: Database.Database): void {
  runMigrations(db, migrations, "session store", migrations.length);
}
