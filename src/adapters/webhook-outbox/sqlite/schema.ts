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
  // v2. For the catch-up after a crash (see webhook-catch-up.ts): the newest
  // delivery of a message whatever its status, and `timeline` (when the
  // outbox was created, and the enqueue time of the newest delivery purged,
  // so the newest enqueue is known after a purge). An outbox that had
  // deliveries before this migration counts as created with its oldest one.
  `
  CREATE INDEX deliveries_by_key ON deliveries (ordering_key, seq);
  CREATE TABLE timeline (
    name TEXT PRIMARY KEY CHECK (name IN ('created_at', 'purged_through')),
    at INTEGER NOT NULL
  ) STRICT;
  INSERT INTO timeline (name, at) SELECT 'created_at', min(created_at) FROM deliveries HAVING count(*) > 0;
  `,
];

export const SCHEMA_VERSION = migrations.length;

/** Brings the database up to `target` ({@link SCHEMA_VERSION} unless a test builds an older database to migrate). */
export function migrate(db: Database.Database, target: number = SCHEMA_VERSION): void {
  runMigrations(db, migrations, "webhook outbox", target);
}
