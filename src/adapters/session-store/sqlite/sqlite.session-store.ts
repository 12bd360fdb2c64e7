import { DomainError } from "../../../domain/errors.ts";
import { silentLogger, type Logger } from "../../../domain/ports/logger.port.ts";
import { CorruptEntryError, type StoreHealth, type StoredValue } from "../../../domain/ports/session-store.port.ts";
import type { PreparedStatements } from "../../shared/sqlite/statements.ts";
import type { SyncFile } from "../../shared/sqlite/wal-sync.ts";
import { decodeBufferJson, encodeBufferJson } from "../shared/buffer-json.ts";
import { assertKey, assertSessionId } from "../shared/validation.ts";
import type {
  ApplyOptions,
  TierSessionMeta,
  Versioned,
  VersionedSessionTier,
  VersionedWrite,
} from "../shared/versioned-tier.ts";
import { HealingDatabase } from "./healing-database.ts";
import { migrate } from "./schema.ts";
import {
  applyRows,
  keepAside,
  keptAsideId,
  keyBytes,
  sessionRow,
  type EncodedWrite,
  type EntryRow,
} from "./session-rows.ts";

export interface SqliteSessionStoreOptions {
  /** Database file (`sessions.db` in DATA_DIR); created 0600, its directory 0700, if missing. */
  readonly path: string;
  readonly logger?: Logger;
  /**
   * `full` (default): `setMany` resolves once its commit is on disk (power
   * loss). `normal`: at COMMIT (a crash of the process, not a power loss).
   */
  readonly synchronous?: "full" | "normal";
  readonly busyTimeoutMs?: number;
  /** Test hook: how the write-ahead log is synced. */
  readonly syncFile?: SyncFile;
}

/**
 * The embedded session store: every session in one SQLite database (libsql,
 * WAL, group commit; see `DurableDatabase`), one row per key, its value in
 * Baileys' BufferJSON text.
 *
 * - `setMany` is one transaction: after a crash either all of it or none of
 *   it is there; it resolves once the commit is durable. Writes of one
 *   event-loop turn share a transaction and one fdatasync.
 * - Calls on one session see each other in order: writes apply in call
 *   order (each batch gets the session's next sequence), and a read waits
 *   until the writes to that session queued before it are durable. (A write
 *   queued after the read was called may show in it, committed: the two
 *   overlap.)
 * - Entries are versioned for the tiered store (`VersionedSessionTier`).
 * - A value that does not decode is kept aside (table `kept_aside`, never
 *   deleted) and reported as {@link CorruptEntryError}, never as absent,
 *   until the key is written again.
 * - A failed write (disk full, I/O error) rejects with `STORE.UNAVAILABLE`;
 *   the store reopens its database and works again once the disk does (see
 *   {@link HealingDatabase}).
 */
export class SqliteSessionStore implements VersionedSessionTier {
  readonly kind = "sqlite";
  readonly #path: string;
  readonly #logger: Logger;
  readonly #database: HealingDatabase;
  /** Per session, the last write queued: reads wait for it. Entries leave once settled. */
  readonly #writes = new Map<string, Promise<unknown>>();

  constructor(options: SqliteSessionStoreOptions) {
    this.#path = options.path;
    this.#logger = options.logger ?? silentLogger;
    this.#database = new HealingDatabase(
      {
        path: options.path,
        store: "session store",
        synchronous: options.synchronous ?? "full",
        busyTimeoutMs: options.busyTimeoutMs ?? 5000,
        migrate,
        closedError: () => new DomainError("STORE.UNAVAILABLE", "the session store is closed"),
        ...(options.syncFile ? { syncFile: options.syncFile } : {}),
      },
      this.#logger,
      (error) => error instanceof CorruptEntryError,
    );
  }

  async getMany(session: string, keys: readonly string[]): Promise<Map<string, StoredValue>> {
    return stripVersions(await this.getVersioned(session, keys));
  }

  async entries(session: string): Promise<Map<string, StoredValue>> {
    return stripVersions(await this.entriesVersioned(session));
  }

  async getVersioned(session: string, keys: readonly string[]): Promise<Map<string, Versioned>> {
    assertSessionId(session);
    const wanted = [...new Set(keys)];
    for (const key of wanted) assertKey(key);
    await this.#settled(session);
    const rows = await this.#database.read(({ statements: sql }) => {
      this.#assertNoFault(session, sessionRow(sql, session)?.fault ?? null);
      const select = sql.get("SELECT key, version, value FROM entries WHERE session = ? AND key = ?");
      const found: EntryRow[] = [];
      for (const key of wanted) {
        const row = select.get([session, keyBytes(key)]) as EntryRow | undefined;
        if (row !== undefined) found.push(row);
      }
      return found;
    });
    return this.#decode(session, rows);
  }

  async entriesVersioned(session: string): Promise<Map<string, Versioned>> {
    assertSessionId(session);
    await this.#settled(session);
    const rows = await this.#database.read(({ statements: sql }) => {
      this.#assertNoFault(session, sessionRow(sql, session)?.fault ?? null);
      // all() gives a BLOB as an ArrayBuffer (get() as a Buffer): bound again later, it must be bytes.
      return sql
        .all<EntryRow>("SELECT key, version, value FROM entries WHERE session = ?", [session])
        .map((row) => ({ ...row, key: Buffer.from(row.key as unknown as ArrayBuffer) }));
    });
    return this.#decode(session, rows);
  }

  async sessionMeta(session: string): Promise<TierSessionMeta> {
    assertSessionId(session);
    await this.#settled(session);
    const row = await this.#database.read(({ statements: sql }) => sessionRow(sql, session));
    return { seq: row?.seq ?? 0, complete: true };
  }

  async setMany(session: string, entries: ReadonlyMap<string, StoredValue | null>): Promise<void> {
    assertSessionId(session);
    const encoded = encodeWrites([...entries].map(([key, value]) => ({ key, value, version: 0 })));
    await this.#write(session, (sql) => {
      const current = sessionRow(sql, session);
      this.#assertNoFault(session, current?.fault ?? null);
      const seq = (current?.seq ?? 0) + 1;
      applyRows(
        sql,
        session,
        current,
        encoded.map((write) => ({ ...write, version: seq })),
        { seq },
      );
    });
  }

  async clear(session: string): Promise<void> {
    assertSessionId(session);
    await this.#write(session, (sql) => {
      const current = sessionRow(sql, session);
      applyRows(sql, session, current, [], { seq: (current?.seq ?? 0) + 1, clear: true });
    });
  }

  async applyVersioned(session: string, writes: readonly VersionedWrite[], options: ApplyOptions): Promise<boolean> {
    assertSessionId(session);
    const encoded = encodeWrites(writes);
    return this.#write(session, (sql) => {
      const current = sessionRow(sql, session);
      this.#assertNoFault(session, current?.fault ?? null);
      return applyRows(sql, session, current, encoded, options);
    });
  }

  async listSessions(): Promise<string[]> {
    await Promise.all([...this.#writes.values()].map((write) => write.catch(() => undefined)));
    const rows = await this.#database.read(({ statements: sql }) =>
      sql.all<{ session: string }>(
        `SELECT DISTINCT session FROM entries UNION SELECT session FROM sessions WHERE fault IS NOT NULL
         ORDER BY session`,
        [],
      ),
    );
    return rows.map((row) => row.session);
  }

  /**
   * Marks a session whose bookkeeping could not be read (an upgrade found it
   * corrupt): it is reported corrupt, never empty, until it is cleared.
   */
  async markFaulty(session: string, location: string): Promise<void> {
    assertSessionId(session);
    await this.#write(session, (sql) => {
      sql
        .get(
          `INSERT INTO sessions (session, seq, fault) VALUES (?, 0, ?)
           ON CONFLICT (session) DO UPDATE SET fault = excluded.fault`,
        )
        .run([session, location]);
    });
  }

  health(): StoreHealth {
    return this.#database.health();
  }

  /** Lets queued writes commit and sync, then closes; later calls reject with `STORE.UNAVAILABLE`. */
  close(): Promise<void> {
    return this.#database.close();
  }

  #write<T>(session: string, work: (sql: PreparedStatements) => T): Promise<T> {
    const result = this.#database.write(work);
    this.#writes.set(session, result);
    const forget = (): void => {
      if (this.#writes.get(session) === result) this.#writes.delete(session);
    };
    result.then(forget, forget);
    return result;
  }

  async #settled(session: string): Promise<void> {
    await this.#writes.get(session)?.catch(() => undefined);
  }

  #assertNoFault(session: string, fault: string | null): void {
    if (fault !== null) throw new CorruptEntryError(session, null, fault, "the session's bookkeeping is unreadable");
  }

  async #decode(session: string, rows: readonly EntryRow[]): Promise<Map<string, Versioned>> {
    const found = new Map<string, Versioned>();
    for (const row of rows) {
      const key = Buffer.from(row.key).toString("utf8");
      if (row.value === null) {
        const id = await this.#database.read(({ statements: sql }) => keptAsideId(sql, session, row.key));
        throw new CorruptEntryError(session, key, this.#location(id), "kept aside earlier");
      }
      let value: StoredValue;
      try {
        value = decodeBufferJson(row.value);
      } catch (error) {
        throw await this.#keepAside(session, key, row, error);
      }
      found.set(key, { value, version: row.version });
    }
    return found;
  }

  async #keepAside(session: string, key: string, row: EntryRow, cause: unknown): Promise<CorruptEntryError> {
    const detail = `${cause instanceof Error ? cause.name : "undecodable"} while decoding`;
    const id = await this.#write(session, (sql) => keepAside(sql, session, row, detail));
    const location = this.#location(id);
    this.#logger.error(
      { session, key, location },
      "session store entry is corrupt; kept aside, session needs attention",
    );
    return new CorruptEntryError(session, key, location, detail);
  }

  #location(keptAside: number | undefined): string {
    return keptAside === undefined ? this.#path : `${this.#path} (kept_aside id ${keptAside})`;
  }
}

function encodeWrites(writes: readonly VersionedWrite[]): EncodedWrite[] {
  return writes.map(({ key, value, version }) => {
    assertKey(key);
    return { key, version, text: value === null ? null : encodeBufferJson(value) };
  });
}

function stripVersions(found: Map<string, Versioned>): Map<string, StoredValue> {
  return new Map([...found].map(([key, { value }]) => [key, value]));
}
