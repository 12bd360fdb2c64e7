import type Database from "libsql";
import { runMigrations } from "../../shared/sqlite/migrations.ts";

/**
 * Schema migrations of events.db, applied in order; `PRAGMA user_version`
 * holds how many have run. Never edit a released migration: append one.
 */
const migrations: readonly string[] = [
  // v1. AUTOINCREMENT: an id is never reused, even after the newest events
  // are pruned, so a client's Last-Event-ID can never name a different event.
  `
  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    body TEXT NOT NULL
  ) STRICT;
  CREATE INDEX events_by_age ON events (at);
  `,
];

/** Brings the database up to date. */
export function migrate(db: Database.Database): void {
  runMigrations(db, migrations, "event log", migrations.length);
}
