import type Database from "libsql";
import { runMigrations } from "../../shared/sqlite/migrations.ts";

/**
 * Schema migrations, applied in order. `PRAGMA user_version` holds how many
 * have run, so a database is brought up to date by running the ones after it.
 * Never edit a released migration: append a new one.
 */
const migrations: readonly string[] = [
  // v1. `seq` is the acceptance order: FIFO, "newest first" and list cursors
  // rely on it, and rows are never deleted, so the rowid only ever grows.
  // `head` is 1 exactly on the oldest unfinished (queued or sending) outbound
  // message of each (provider, session, to): keeping that flag up to date on
  // every status change lets claim read a small index of heads instead of
  // searching the whole backlog of every recipient.
  `
  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    provider TEXT NOT NULL,
    session TEXT NOT NULL,
    to_address TEXT,
    from_address TEXT,
    body TEXT NOT NULL,
    media_urls TEXT NOT NULL,
    metadata TEXT,
    provider_message_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    idempotency_key TEXT,
    idempotency_fingerprint TEXT,
    next_attempt_at INTEGER,
    lease_until INTEGER,
    head INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    history TEXT NOT NULL
  ) STRICT;
  CREATE UNIQUE INDEX messages_idempotency ON messages (idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE UNIQUE INDEX messages_inbound_dedupe ON messages (provider, provider_message_id) WHERE direction = 'inbound';
  CREATE INDEX messages_outbound_provider_id ON messages (provider, provider_message_id)
    WHERE direction = 'outbound' AND provider_message_id IS NOT NULL;
  CREATE INDEX messages_unfinished ON messages (provider, session, to_address, seq) WHERE status IN ('queued', 'sending');
  CREATE INDEX messages_heads ON messages (provider, session, seq) WHERE head = 1;
  CREATE INDEX messages_by_status ON messages (status, seq);
  CREATE INDEX messages_by_session ON messages (session, seq);
  `,
  // v2. Status reports that arrived before recordAttempt stored the provider
  // id they name, kept until it does (see early-statuses.ts). `seq` is the
  // order of reporting; `reported_at` is indexed so pruning by age reads only
  // the rows it deletes.
  `
  CREATE TABLE early_statuses (
    seq INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    provider_message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    reported_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX early_statuses_by_provider_id ON early_statuses (provider, provider_message_id);
  CREATE INDEX early_statuses_by_age ON early_statuses (reported_at);
  `,
  // v3. Messages by their last change, for the webhook catch-up after a crash
  // (changedSince), which reads only the last minutes of changes.
  `
  CREATE INDEX messages_by_change ON messages (updated_at, seq);
  `,
  // v4. Attachments as the domain's MessageMedia list (JSON), replacing the
  // list of URLs: each old URL becomes a file to fetch from it. And which
  // held files each message refers to, so the media retention asks one index
  // whether a file is still needed instead of reading every message.
  `
  ALTER TABLE messages ADD COLUMN media TEXT NOT NULL DEFAULT '[]';
  UPDATE messages SET media = (
    SELECT json_group_array(json_object(
      'id', NULL, 'kind', NULL, 'mimeType', NULL, 'size', NULL, 'sha256', NULL,
      'filename', NULL, 'caption', NULL, 'sourceUrl', value, 'error', NULL))
    FROM json_each(messages.media_urls)
  ) WHERE media_urls <> '[]';
  UPDATE messages SET media_urls = '[]';
  CREATE TABLE message_media (
    media_id TEXT NOT NULL,
    message_seq INTEGER NOT NULL,
    PRIMARY KEY (media_id, message_seq)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX message_media_by_message ON message_media (message_seq);
  `,
  // v5. A message's conversation facts (kind, reply, location, contacts,
  // reaction, edit, delete, edits, LID) as one JSON object; '{}' on older rows
  // reads as a plain text or media message. Inbound replies, reactions and
  // edits look their target up by provider id in either direction.
  `
  ALTER TABLE messages ADD COLUMN conversation TEXT NOT NULL DEFAULT '{}';
  CREATE INDEX messages_by_provider_id ON messages (provider, provider_message_id) WHERE provider_message_id IS NOT NULL;
  `,
];

export const SCHEMA_VERSION = migrations.length;

/** Brings the database up to `target` ({@link SCHEMA_VERSION} unless a test builds an older database to migrate). */
export function migrate(db: Database.Database, target: number = SCHEMA_VERSION): void {
  runMigrations(db, migrations, "message store", target);
}
