import { randomBytes } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { FILE_MODE, ensureDir, unlinkIfPresent } from "../shared/durable-files.ts";
import { syncPath, type SyncFn } from "./durable-sync.ts";
import { frameRecord, logFileName } from "./log-frames.ts";
import { liveLogs } from "./log-recovery.ts";

/**
 * The disk store's write-ahead log: one append-only file per store instance
 * and generation, `<root>/.wal-<instance>-<generation>`.
 *
 * Durability argument, in short:
 *
 * - **Commit point.** A batch is committed once its record (every entry with
 *   its full value, the files it removes, the change to the session index,
 *   a checksum) is appended and the log fdatasynced. The batch resolves
 *   there: the store applies it to its in-memory state (the index, and the
 *   session's pending files: per file, the newest committed content, see
 *   `disk-pending-files.ts`) and writes no file. Reads take a pending file
 *   before the file on disk, so they see every committed batch and nothing
 *   else (a batch reaches memory only once its record is durable, and the
 *   session's lock keeps reads out while it does).
 * - **Group commit.** Records arriving while a sync is in progress are written
 *   together by the next write and share its single fdatasync.
 * - **Checkpoint.** Appends move to a fresh generation (its file created and
 *   the directory fsynced first), the committers of the old generation
 *   finish taking their batch into memory, then `writeSessions` runs for
 *   every session the old generation touched: each pending file is written
 *   once, with its newest content (fsynced temp file + rename, or unlink),
 *   then the session's `.meta`, then the directories are fsynced; only then
 *   is the old log deleted. Whatever a deleted log described is therefore
 *   durable in the files and in `.meta`. The order among those writes does
 *   not matter, as none can be lost while the log is kept.
 * - **Checkpoint racing with commits.** While generation G is checkpointed,
 *   batches commit into G+1 and may rewrite the files being written. Each
 *   commit replaces a file's pending entry with a new object; the
 *   checkpoint drops an entry only if it is still the object whose content
 *   it just renamed into place. So (1) a file written by a checkpoint holds
 *   the newest content committed when it was read; an entry replaced
 *   meanwhile stays pending, and G+1, whose record holds its content,
 *   checkpoints it later. (2) A file never gets older: checkpoints run one
 *   at a time and a file is written only from a pending entry, which is
 *   newer than anything written before. (3) No pending file means the file
 *   on disk holds the newest committed content, so reads from disk are
 *   never stale. (4) Every pending entry was committed in a generation
 *   that lists its session, so that generation's checkpoint (at the latest
 *   the final one, at close) writes it: memory holds at most the files of
 *   the generations not checkpointed yet, bounded by the checkpoint
 *   thresholds. A file written early with G+1's content, before G+1's
 *   log is deleted, is harmless: replay rewrites it from G+1's records.
 * - **Index deltas.** A record carries only what its batch changed in the
 *   index, as new values per key (set, not step: a version or "gone", a
 *   hashed name's key or "free"). `.meta` is a snapshot of the in-memory
 *   index taken when the checkpoint writes it, so it may already include
 *   records of the NEXT generation, committed meanwhile (their log is kept).
 *   That is safe because replay is "last writer wins per key". The logs left
 *   on disk are always a suffix of the records (generations are deleted
 *   oldest first, one checkpoint at a time), and `.meta` includes every
 *   record before that suffix (it was written after they all reached the
 *   in-memory index), plus perhaps some of the suffix. Replaying the suffix
 *   over it in order, a key the suffix touches ends as the suffix's last
 *   record for it set it; a key it does not touch was last set before the
 *   suffix, so `.meta` already holds its latest value, and keeps it. Hence
 *   replaying over a newer `.meta`, or twice, gives the same index; the
 *   sequence is merged as a maximum. Records of earlier versions of this
 *   store carry the whole index instead, which replaces it (also idempotent).
 *   Key files follow the same rule: a record holds the whole new content of
 *   each file it writes, so replaying the suffix leaves each file it
 *   touches with its newest content, whatever the file held before.
 * - **`.meta` itself.** Once a log is deleted, `.meta` may be the only copy
 *   of what its records changed in the index, and no replay can rebuild it
 *   (unlike a key file, which a later record rewrites whole). So it is
 *   never exposed unsynced: its temp file is fsynced before the rename, so
 *   a power loss leaves the new `.meta` or the previous one, never a torn
 *   one; and the records since the previous one are all still in the logs,
 *   as the generation being checkpointed is deleted only after the rename
 *   is made durable too (the directory fsync). Key files are written the
 *   same way.
 * - **Recovery.** At open, the logs of dead instances are replayed in order
 *   (a record rewrites whole files and sets index values, so replaying one
 *   twice is harmless), each file written once and each session's merged
 *   `.meta`, all made durable, then those logs removed. Reading a log stops
 *   at the first record whose length or checksum does not match: a torn
 *   tail can only be the last, never-acknowledged group, because a group is
 *   written only after the previous one's fdatasync returned.
 * - **Failure.** A failed write or sync poisons the log: later appends are
 *   refused and no checkpoint runs, so the log keeps everything for the
 *   replay at the next start (the fsync-error lesson: a retried fsync can
 *   report success over lost pages).
 */

/** One log file: its records, and the committers still taking theirs into memory. */
export class LogGeneration {
  records = 0;
  bytes = 0;
  private inflight = 0;
  private waiters: Array<() => void> = [];
  /** Sessions whose records landed here: the checkpoint writes their files and index. */
  readonly sessions = new Set<string>();

  constructor(
    readonly path: string,
    readonly handle: FileHandle,
  ) {}

  /** @internal counted by the log when a committer's record lands in this generation. */
  enter(count: number): void {
    this.inflight += count;
  }

  /** A committer took its record into memory and listed its session (or gave up): the checkpoint may proceed. */
  release(): void {
    this.inflight -= 1;
    if (this.inflight === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  drained(): Promise<void> {
    return this.inflight === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

interface Pending {
  readonly bytes: Buffer;
  resolve(generation: LogGeneration): void;
  reject(error: unknown): void;
}

export interface WriteAheadLogOptions {
  readonly root: string;
  readonly sync: SyncFn;
  /** Called after an append when the current generation passed the checkpoint thresholds. */
  readonly onFull: () => void;
  readonly maxRecords: number;
  readonly maxBytes: number;
  /**
   * Called at a checkpoint once the old generation's committers are done,
   * before it is deleted: makes durable the pending files and the index of
   * each session it touched, and their directories (see above).
   */
  readonly writeSessions: (sessions: ReadonlySet<string>) => Promise<void>;
}

/** Appends records with group commit and rotates generations at checkpoints. */
export class WriteAheadLog {
  private readonly instance = `${Date.now().toString(36).padStart(9, "0")}${randomBytes(4).toString("hex")}`;
  private generation = 0;
  private current: LogGeneration | null = null;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private checkpointing: Promise<void> = Promise.resolve();
  private failed: unknown = null;
  private rootSynced = false;
  /** This instance's log files not deleted yet. */
  private readonly paths = new Set<string>();

  constructor(private readonly options: WriteAheadLogOptions) {}

  get failure(): unknown {
    return this.failed;
  }

  /**
   * Appends one record; resolves once it is durable, with the generation it
   * landed in. The caller must call `release` on it once the record is in
   * memory and its session listed in `sessions` (or the attempt abandoned).
   */
  append(payload: Buffer): Promise<LogGeneration> {
    if (this.failed !== null) return Promise.reject(this.failed as Error);
    return new Promise((resolve, reject) => {
      this.queue.push({ bytes: frameRecord(payload), resolve, reject });
      this.flushing ??= this.flushLoop().finally(() => {
        this.flushing = null;
      });
    });
  }

  /** Stops the log without touching its files (a crash, or a failure): a later open replays it. */
  abandon(error: unknown): void {
    this.failed ??= error;
    for (const path of this.paths) liveLogs.delete(path);
  }

  /**
   * Makes every record so far durable in the files and `.meta`, and removes
   * the log(s) holding them. `final` (at close) opens no new generation.
   */
  checkpoint(final = false): Promise<void> {
    const run = this.checkpointing.then(() => this.runCheckpoint(final));
    this.checkpointing = run.catch(() => undefined);
    return run;
  }

  private async runCheckpoint(final: boolean): Promise<void> {
    if (final) await this.flushing;
    const old = this.current;
    if (this.failed !== null || old === null || (old.records === 0 && !final)) return;
    // The next generation exists durably before any record goes to it.
    this.current = final ? null : await this.createGeneration();
    await old.drained();
    if (this.failed !== null) return;
    try {
      await this.options.writeSessions(old.sessions);
      await old.handle.close();
      await unlinkIfPresent(old.path);
      liveLogs.delete(old.path);
      this.paths.delete(old.path);
      await syncPath(this.options.root, "dir", this.options.sync);
    } catch (error) {
      // Never retried: a file whose fsync failed may have lost pages a retried fsync would not report.
      this.abandon(error);
      throw error;
    }
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      let generation: LogGeneration | null = null;
      try {
        if (this.failed !== null) throw this.failed;
        this.current ??= await this.createGeneration();
        generation = this.current;
        generation.enter(batch.length);
        const bytes = Buffer.concat(batch.map((p) => p.bytes));
        await generation.handle.appendFile(bytes);
        await this.options.sync(generation.handle, "log");
        generation.records += batch.length;
        generation.bytes += bytes.length;
      } catch (error) {
        this.abandon(error);
        for (let i = 0; generation !== null && i < batch.length; i++) generation.release();
        for (const pending of batch) pending.reject(error);
        continue;
      }
      for (const pending of batch) pending.resolve(generation);
      if (generation.records >= this.options.maxRecords || generation.bytes >= this.options.maxBytes)
        this.options.onFull();
    }
  }

  private async createGeneration(): Promise<LogGeneration> {
    this.generation += 1;
    const path = join(this.options.root, logFileName(this.instance, this.generation));
    await ensureDir(this.options.root);
    if (!this.rootSynced) {
      // The sessions directory may be new: its own entry must be durable before a log inside it counts.
      await syncPath(dirname(this.options.root), "dir", this.options.sync);
      this.rootSynced = true;
    }
    const handle = await open(path, "a", FILE_MODE);
    liveLogs.add(path);
    this.paths.add(path);
    await syncPath(this.options.root, "dir", this.options.sync);
    return new LogGeneration(path, handle);
  }
}
