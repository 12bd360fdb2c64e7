import type Database from "libsql";
import { runMigrations } from "../../shared/sqlite/migrations.ts";

/**
 * Schema migrations of webhooks.db, applied in order; `PRAGMA user_version`
 * holds how many have run. Never edit a released migration: append one.
 */
const migrations: readonly string[] = [
  // v1. `seq` is the enqueue order: per ordering key, deliveries go out in
  // it, and lists and cursors use it. A pending row with a `lease_until` in
  // the future is being attempted. The partial index on pending rows keeps
  // "is an earlier delivery of this key still pending?" cheap however many
  // delivered rows pile up.
  `
  CREATE TABLE deliveries (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at INTEGER,
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    body TEXT NOT NULL
  ) STRICT;
  CREATE INDEX deliveries_pending_by_key ON deliveries (ordering_key, seq) WHERE status = 'pending';
  CREATE INDEX deliveries_by_status ON deliveries (status, seq);
  CREATE INDEX deliveries_delivered_by_age ON deliveries (updated_at) WHERE status = 'delivered';
  `,
];

export const SCHEMA_VERSION = migrations.length;

/** Brings the database up to date (see runMigrations). */
export function migrate(db: Database.Database): void {
  runMigrations(db, migrations, "webhook outbox");
}
