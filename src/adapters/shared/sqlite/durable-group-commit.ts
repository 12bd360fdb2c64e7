import type Database from "libsql";
import { GroupCommit } from "./group-commit.ts";
import { WalSync, type SyncFile } from "./wal-sync.ts";

export interface DurableGroupCommitOptions {
  /** The database file (its `-wal` file is what gets synced). */
  readonly path: string;
  /**
   * `full`: a durable write is acknowledged once its commit is on disk (the
   * WAL fdatasynced off the event loop, see {@link WalSync}). `normal`: at
   * COMMIT; it survives a crash of the process, not a power loss.
   */
  readonly synchronous: "full" | "normal";
  readonly maxBatchSize?: number;
  /** Test hook: how the WAL file is synced. */
  readonly syncFile?: SyncFile;
}

/**
 * Group commit on a libsql connection in WAL mode. SQLite itself never syncs
 * at COMMIT (`synchronous = NORMAL`); with `full`, the commits that must be
 * durable are synced by a {@link WalSync}, so the event loop never waits for
 * the disk. Call after `journal_mode = WAL` is set.
 */
export function durableGroupCommit(
  db: Database.Database,
  options: DurableGroupCommitOptions,
): { group: GroupCommit; wal: WalSync | undefined } {
  db.exec("PRAGMA synchronous = NORMAL");
  const wal = options.synchronous === "full" ? new WalSync(`${options.path}-wal`, options.syncFile) : undefined;
  const group = new GroupCommit(
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
      ...(wal === undefined ? {} : { durability: wal }),
    },
  );
  return { group, wal };
}
