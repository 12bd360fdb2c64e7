import type { PreparedStatements } from "../../shared/sqlite/statements.ts";
import type { ApplyOptions } from "../shared/versioned-tier.ts";

/** A write with its value already encoded (BufferJSON text); `null` deletes. */
export interface EncodedWrite {
  readonly key: string;
  readonly text: string | null;
  readonly version: number;
}

/** Keys are stored as their UTF-8 bytes (a key may hold NUL, which SQLite text would cut). */
export function keyBytes(key: string): Buffer {
  return Buffer.from(key, "utf8");
}

export interface EntryRow {
  /** The key's UTF-8 bytes, as stored. */
  readonly key: Uint8Array;
  readonly version: number;
  /** `null`: kept aside as corrupt. */
  readonly value: string | null;
}

export interface SessionRow {
  readonly seq: number;
  readonly fault: string | null;
}

/** The session's row; `undefined` when nothing was ever written to it. */
export function sessionRow(sql: PreparedStatements, session: string): SessionRow | undefined {
  return sql.all<SessionRow>("SELECT seq, fault FROM sessions WHERE session = ?", [session])[0];
}

/**
 * Applies a versioned batch inside the caller's transaction (see
 * `VersionedSessionTier`): a write lands only over an older version of its
 * key or over a value kept aside as corrupt; `clear` first deletes every key
 * older than the batch. Returns `false` (and changes nothing) when
 * `onlyIfNewer` and the session has already reached `options.seq`.
 */
export function applyRows(
  sql: PreparedStatements,
  session: string,
  current: SessionRow | undefined,
  writes: readonly EncodedWrite[],
  options: ApplyOptions,
): boolean {
  const seq = current?.seq ?? 0;
  if (options.onlyIfNewer === true && seq >= options.seq) return false;
  if (options.clear === true) {
    sql.get("DELETE FROM entries WHERE session = ? AND (version < ? OR value IS NULL)").run([session, options.seq]);
  }
  const upsert = sql.get(
    `INSERT INTO entries (session, key, version, value) VALUES (?, ?, ?, ?)
     ON CONFLICT (session, key) DO UPDATE SET version = excluded.version, value = excluded.value
     WHERE entries.version < excluded.version OR entries.value IS NULL`,
  );
  const remove = sql.get("DELETE FROM entries WHERE session = ? AND key = ? AND (version < ? OR value IS NULL)");
  let next = Math.max(seq, options.seq);
  for (const write of writes) {
    next = Math.max(next, write.version);
    const key = keyBytes(write.key);
    if (write.text === null) remove.run([session, key, write.version]);
    else upsert.run([session, key, write.version, write.text]);
  }
  if (current === undefined || next !== seq || (options.clear === true && current.fault !== null)) {
    // A clear is how an operator starts a session over: it drops a fault too.
    sql
      .get(
        `INSERT INTO sessions (session, seq, fault) VALUES (?, ?, NULL)
         ON CONFLICT (session) DO UPDATE SET seq = excluded.seq,
           fault = CASE WHEN ? THEN NULL ELSE sessions.fault END`,
      )
      .run([session, next, options.clear === true ? 1 : 0]);
  }
  return true;
}

/** Keeps an undecodable value aside and marks its key corrupt; returns the kept copy's id. */
export function keepAside(sql: PreparedStatements, session: string, row: EntryRow, detail: string): number {
  const result = sql
    .get("INSERT INTO kept_aside (session, key, value, detail, at) VALUES (?, ?, ?, ?, ?)")
    .run([session, row.key, row.value, detail, Date.now()]);
  sql
    .get("UPDATE entries SET value = NULL, version = 0 WHERE session = ? AND key = ? AND value IS ?")
    .run([session, row.key, row.value]);
  return Number(result.lastInsertRowid);
}

/** The newest kept-aside copy of a key, for the error's location. */
export function keptAsideId(sql: PreparedStatements, session: string, key: Uint8Array): number | undefined {
  const row = sql.get("SELECT max(id) AS id FROM kept_aside WHERE session = ? AND key = ?").get([session, key]) as
    { id: number | null } | undefined;
  return row?.id ?? undefined;
}
