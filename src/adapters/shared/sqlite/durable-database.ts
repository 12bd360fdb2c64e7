import Database from "libsql";
import { prepareDatabaseFile, restrictDatabaseFiles } from "./database-file.ts";
import { GroupCommit } from "./group-commit.ts";
import { PreparedStatements } from "./statements.ts";
import { WalSync, type SyncFile } from "./wal-sync.ts";

export interface DurableDatabaseOptions {
  /** Database file; its directory is created (0700) and the file created 0600 if missing. */
  readonly path: string;
  /**
   * `full`: a durable write is acknowledged once its commit is on disk (the
   * WAL fdatasynced off the event loop, see {@link WalSync}). `normal`: at
   * COMMIT; it survives a crash of the process, not a power loss.
   */
  readonly synchronous: "full" | "normal";
  /** How long a write waits for another connection's lock before failing (ms). */
  readonly busyTimeoutMs: number;
  /** Brings the schema up to date, and writes what must exist before the first call. */
  readonly migrate: (db: Database.Database) => void;
  /** The error every call gets once the database is closed. */
  readonly closedError: () => Error;
  readonly maxBatchSize?: number;
  /** Test hook: how the WAL file is synced. */
  readonly syncFile?: SyncFile;
}

/**
 * One embedded SQLite database (libsql, which loads under Node and Deno) as
 * our stores use it: one connection in WAL mode, its files private, its
 * schema migrated, statements prepared once, and every write through a
 * {@link GroupCommit}. SQLite itself never syncs at COMMIT
 * (`synchronous = NORMAL`); with `full`, the commits that must be durable
 * are synced by a {@link WalSync}, so the event loop never waits for the disk.
 */
export class DurableDatabase {
  readonly db: Database.Database;
  readonly statements: PreparedStatements;
  readonly group: GroupCommit;
  readonly #wal: WalSync | undefined;
  readonly #closedError: () => Error;
  #closed = false;

  /** Opens (creating if missing) and migrates the database; nothing is left open if that fails. */
  constructor(options: DurableDatabaseOptions) {
    prepareDatabaseFile(options.path);
    const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs));
    this.db = new Database(options.path, { timeout: busyTimeoutMs });
    try {
      this.db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
      this.db.exec("PRAGMA journal_mode = WAL");
      options.migrate(this.db);
      restrictDatabaseFiles(options.path);
      this.db.exec("PRAGMA synchronous = NORMAL");
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.#closedError = options.closedError;
    this.statements = new PreparedStatements(this.db, options.closedError);
    this.#wal = options.synchronous === "full" ? new WalSync(`${options.path}-wal`, options.syncFile) : undefined;
    const db = this.db;
    this.group = new GroupCommit(
      {
        begin: () => db.exec("BEGIN IMMEDIATE"),
        commit: () => db.exec("COMMIT"),
        rollback: () => db.exec("ROLLBACK"),
        savepoint: () => db.exec("SAVEPOINT unit"),
        releaseSavepoint: () => db.exec("RELEASE unit"),
        rollbackToSavepoint: () => db.exec("ROLLBACK TO unit"),
        get inTransaction() {
          return db.inTransaction;
        },
      },
      {
        ...(options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize }),
        ...(this.#wal === undefined ? {} : { durability: this.#wal }),
      },
    );
  }

  /** Why writes can no longer be made durable (the WAL sync failed), if they cannot. */
  get durabilityFailure(): Error | undefined {
    return this.#wal?.failure;
  }

  /** Flushes the queued writes, waits for their syncs, then closes; later calls get `closedError`. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.group.close(this.#closedError);
    this.#closed = true;
    await this.#wal?.close();
    this.statements.close();
    this.db.close();
  }
}
