import Database from "libsql";
import { StoreUnavailableError, type WriteHealth } from "../../../domain/errors.ts";
import { asStoreError, storageFailureReason } from "../storage-failure.ts";
import { prepareDatabaseFile, restrictDatabaseFiles } from "./database-file.ts";
import { GroupCommit } from "./group-commit.ts";
import { PreparedStatements } from "./statements.ts";
import { WalSync, type SyncFile } from "./wal-sync.ts";

export interface DurableDatabaseOptions {
  /** Database file; its directory is created (0700) and the file created 0600 if missing. */
  readonly path: string;
  /** What the store is called in errors and health ("message store"). */
  readonly store: string;
  /** Called when the store stops being able to write (with why) and when it can again (undefined). */
  readonly onAvailability?: ((failure: StoreUnavailableError | undefined) => void) | undefined;
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

// After a failed WAL sync, how often a write may try to recover (a checkpoint, which blocks).
const WAL_RECOVERY_INTERVAL_MS = 1_000;

/**
 * One embedded SQLite database (libsql, which loads under Node and Deno) as
 * our stores use it: one connection in WAL mode, its files private, its
 * schema migrated, statements prepared once, and every write through a
 * {@link GroupCommit} ({@link DurableDatabase.run}). SQLite itself never syncs at COMMIT
 * (`synchronous = NORMAL`); with `full`, the commits that must be durable
 * are synced by a {@link WalSync}, so the event loop never waits for the disk.
 */
export class DurableDatabase {
  readonly db: Database.Database;
  readonly statements: PreparedStatements;
  /** Every write goes through {@link run}, which watches for storage failures. */
  readonly #group: GroupCommit;
  readonly #wal: WalSync | undefined;
  readonly #closedError: () => Error;
  readonly #store: string;
  readonly #onAvailability: ((failure: StoreUnavailableError | undefined) => void) | undefined;
  #closed = false;
  /** The storage failure the last write met, until a write succeeds again. */
  #failure: StoreUnavailableError | undefined;
  #probe: Promise<unknown> | undefined;
  #nextWalRecoveryAt = 0;

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
    this.#store = options.store;
    this.#onAvailability = options.onAvailability;
    this.statements = new PreparedStatements(this.db, options.closedError, (error) => asStoreError(this.#store, error));
    this.#wal = options.synchronous === "full" ? new WalSync(`${options.path}-wal`, options.syncFile) : undefined;
    const db = this.db;
    this.#group = new GroupCommit(
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

  /**
   * Runs `work` in the next group transaction (see {@link GroupCommit.run}).
   * A storage failure (disk full, I/O error, read-only filesystem, a failed
   * sync of the log) rejects with a {@link StoreUnavailableError} and marks
   * the store down; the next write that succeeds marks it up again, so the
   * store resumes by itself once the storage does. Nothing is kept of a
   * rejected write's transaction, and the connection serves the next one.
   */
  run<T>(work: () => T, options: { durable?: boolean } = {}): Promise<T> {
    const walFailure = this.#wal?.failure;
    if (walFailure !== undefined && !this.#recoverWal()) return Promise.reject(this.#failed(walFailure));
    return this.#group.run(work, options).then(this.#succeeded, (error: unknown) => {
      throw this.#failed(error);
    });
  }

  /**
   * `ok`, or `down` with the reason while the storage fails. When the last
   * write failed, tries a one-page write first, so a store that nobody writes
   * to still reports its recovery (and a store that only reads fine is not
   * called healthy).
   */
  async health(): Promise<WriteHealth> {
    if (this.#closed) return { status: "down", detail: this.#closedError().message };
    try {
      if (this.#failure !== undefined || this.#wal?.failure !== undefined) {
        await (this.#probe ??= this.#probeWrite().finally(() => (this.#probe = undefined)));
      } else {
        this.statements.all("SELECT 1 AS ok", []);
      }
      return { status: "ok" };
    } catch (error) {
      return { status: "down", detail: error instanceof Error ? error.message : String(error) };
    }
  }

  readonly #succeeded = <T>(value: T): T => {
    if (this.#failure !== undefined) this.#setFailure(undefined);
    return value;
  };

  #setFailure(failure: StoreUnavailableError | undefined): void {
    const changed = (failure === undefined) !== (this.#failure === undefined);
    this.#failure = failure;
    if (changed) this.#onAvailability?.(failure);
  }

  #failed(error: unknown): unknown {
    const walFailure = this.#wal?.failure;
    const translated =
      walFailure !== undefined && error === walFailure
        ? this.#notDurable(walFailure)
        : asStoreError(this.#store, error);
    if (translated instanceof StoreUnavailableError) this.#setFailure(translated);
    return translated;
  }

  #notDurable(syncError: Error): StoreUnavailableError {
    const why = storageFailureReason(syncError) ?? syncError.message;
    return new StoreUnavailableError(this.#store, `writes could not be made durable: ${why}`, undefined, {
      cause: syncError,
    });
  }

  /** Rewrites the current user_version: the smallest write that still goes through the log and its sync. */
  #probeWrite(): Promise<void> {
    return this.run(() => {
      const [row] = this.statements.all<{ user_version: number }>("PRAGMA user_version", []);
      // PRAGMA takes no bound parameters; the value is SQLite's own integer.
      this.db.exec(`PRAGMA user_version = ${Number(row?.user_version ?? 0)}`);
    });
  }

  /**
   * After a failed sync of the log, the frames it held may never reach the
   * disk, and syncing the log again proves nothing. A TRUNCATE checkpoint
   * copies every committed page into the database file, syncs that file and
   * empties the log: once it completes, every commit is durable again and the
   * log's sync can start afresh. Tried at most once a second; false while
   * it cannot complete.
   */
  #recoverWal(): boolean {
    const now = Date.now();
    if (this.#closed || this.db.inTransaction || now < this.#nextWalRecoveryAt) return false;
    this.#nextWalRecoveryAt = now + WAL_RECOVERY_INTERVAL_MS;
    try {
      const row = this.db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as { busy?: number } | undefined;
      return row?.busy === 0 && this.#wal!.recover();
    } catch (error) {
      this.#failed(error);
      return false;
    }
  }

  /** Flushes the queued writes, waits for their syncs, then closes; later calls get `closedError`. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#group.close(this.#closedError);
    this.#closed = true;
    await this.#wal?.close();
    this.statements.close();
    this.db.close();
  }
}
