import type Database from "libsql";
import { runMigrations } from "../../shared/sqlite/migrations.ts";

/**
 * Schema migrations of the media index (media.db beside the files), applied
 * in order; `PRAGMA user_version` holds how many have run. Never edit a
 * released migration: append one.
 */
const migrations: readonly string[] = [
  // v1. One row per id; the bytes are the file named by `sha256`, shared by
  // every row with that hash. By hash: is a file still used; by age: retention.
  `
  CREATE TABLE media (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mime_type TEXT NOT NULL,
    filename TEXT,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX media_by_sha256 ON media (sha256);
  CREATE INDEX media_by_age ON media (created_at, id);
  `,
];

export function migrate(db: Database.Database): void {
  runMigrations(db, migrations, "media index");
}

export interface MediaRow {
  readonly id: string;
  readonly sha256: string;
  readonly size: number;
  readonly mime_type: string;
  readonly filename: string | null;
  readonly created_at: number;
}
