import { createHash, randomBytes } from "node:crypto";
import { open, readdir, readFile, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { FILE_MODE, ensureDir, isNotFound, unlinkIfPresent } from "../shared/durable-files.ts";

/**
 * The disk store's write-ahead log: one append-only file per store instance
 * and generation, `<root>/.wal-<instance>-<generation>`.
 *
 * Durability argument, in short:
 *
 * - **Commit point.** A batch is committed once its record (every entry with
 *   its full value, the change to the session index, a checksum) is appended
 *   and the log fdatasynced. The store then updates its in-memory index and
 *   rewrites the session files without fsync (temp file + rename, so readers
 *   never see a half-written file). Until the next checkpoint they may be
 *   lost or torn by a power loss; the log still holds every record that
 *   touched them, in order. The index file (`.meta`) is not written per
 *   batch at all.
 * - **Group commit.** Records arriving while a sync is in progress are written
 *   together by the next write and share its single fdatasync.
 * - **Checkpoint.** Appends move to a fresh generation (its file created and
 *   the directory fsynced first), the committers of the old generation finish
 *   writing their files and their in-memory index, then `writeIndexes`
 *   writes the `.meta` of every session the old generation touched (fsynced
 *   temp file + rename: always a whole index, new or previous), every file
 *   and directory they touched is fsynced, and only then is the old log
 *   deleted. Whatever a deleted log described is therefore already durable
 *   in the files and in `.meta`.
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
 * - **`.meta` itself.** Once a log is deleted, `.meta` may be the only copy
 *   of what its records changed in the index, and no replay can rebuild it
 *   (unlike a key file, which a later record rewrites whole). So it is
 *   never exposed unsynced: its temp file is fsynced before the rename, so
 *   a power loss leaves the new `.meta` or the previous one, never a torn
 *   one; and the records since the previous one are all still in the logs,
 *   as the generation being checkpointed is deleted only after the rename
 *   is made durable too (the directory fsync).
 * - **Recovery.** At open, the logs of dead instances are replayed in order
 *   (a record rewrites whole files and sets index values, so replaying one
 *   twice is harmless), each session's merged `.meta` and the touched files
 *   made durable, then those logs removed. Reading a log stops at the first
 *   record whose length or checksum does not match: a torn tail can only be
 *   the last, never-acknowledged group, because a group is written only
 *   after the previous one's fdatasync returned.
 * - **Failure.** A failed write or sync poisons the log: later appends are
 *   refused and no checkpoint runs, so the log keeps everything for the
 *   replay at the next start (the fsync-error lesson: a retried fsync can
 *   report success over lost pages).
 */

/** Files and directories written without fsync, which a checkpoint must make durable. */
export interface Touched {
  readonly files: Iterable<string>;
  readonly dirs: Iterable<string>;
}

/** How a file or directory is made durable; injectable so tests can count syncs. */
export type SyncFn = (handle: FileHandle, what: "log" | "file" | "dir") => Promise<void>;

export const defaultSync: SyncFn = (handle, what) => (what === "log" ? handle.datasync() : handle.sync());

const PREFIX = ".wal-";
const HEADER_BYTES = 12; // u32 payload length + the first 8 bytes of the payload's SHA-256

/** Logs held by live stores of this process: never replayed (their records are applied already). */
const liveLogs = new Set<string>();

export function isLogFileName(name: string): boolean {
  return name.startsWith(PREFIX);
}

export function frameRecord(payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  checksum(payload).copy(header, 4);
  return Buffer.concat([header, payload]);
}

/** The intact records of a log, in order; everything from the first torn or corrupt record on is ignored. */
export function parseRecords(data: Buffer): Buffer[] {
  const records: Buffer[] = [];
  let at = 0;
  while (at + HEADER_BYTES <= data.length) {
    const length = data.readUInt32LE(at);
    const end = at + HEADER_BYTES + length;
    if (end > data.length) break;
    const payload = data.subarray(at + HEADER_BYTES, end);
    if (!checksum(payload).equals(data.subarray(at + 4, at + HEADER_BYTES))) break;
    records.push(payload);
    at = end;
  }
  return records;
}

function checksum(payload: Buffer): Buffer {
  return createHash("sha256").update(payload).digest().subarray(0, 8);
}

/** Files and directories written without fsync since a checkpoint: what the next one must make durable. */
export class DirtySet {
  readonly files = new Set<string>();
  readonly dirs = new Set<string>();

  add(other: Touched): void {
    for (const file of other.files) this.files.add(file);
    for (const dir of other.dirs) this.dirs.add(dir);
  }

  /** Files first, then their directories (which hold the renames and unlinks). A file gone since is skipped. */
  async flush(sync: SyncFn): Promise<void> {
    for (const file of this.files) await syncPath(file, "file", sync);
    for (const dir of this.dirs) await syncPath(dir, "dir", sync);
  }
}

async function syncPath(path: string, what: "file" | "dir", sync: SyncFn): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  try {
    await sync(handle, what);
  } finally {
    await handle.close();
  }
}

/** One log file: its records, the committers still writing their files, and what they touched. */
export class LogGeneration {
  records = 0;
  bytes = 0;
  private inflight = 0;
  private waiters: Array<() => void> = [];
  readonly dirty = new DirtySet();
  /** Sessions whose records landed here: the checkpoint writes their index. */
  readonly sessions = new Set<string>();

  constructor(
    readonly path: string,
    readonly handle: FileHandle,
  ) {}

  /** @internal counted by the log when a committer's record lands in this generation. */
  enter(count: number): void {
    this.inflight += count;
  }

  /** A committer is done writing the files of its record (or gave up): the checkpoint may proceed. */
  release(touched?: Touched): void {
    if (touched !== undefined) this.dirty.add(touched);
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
   * before its files are fsynced and it is deleted: writes the index of each
   * session it touched, from the in-memory index of that moment.
   */
  readonly writeIndexes: (sessions: ReadonlySet<string>) => Promise<Touched>;
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

  constructor(private readonly options: WriteAheadLogOptions) {}

  get failure(): unknown {
    return this.failed;
  }

  /**
   * Appends one record; resolves once it is durable, with the generation it
   * landed in. The caller must call `release` on it once the record's files
   * are written (or the attempt abandoned).
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
    if (this.current !== null) liveLogs.delete(this.current.path);
  }

  /**
   * Makes every record so far durable in the files and removes the log(s)
   * holding them. `final` (at close) opens no new generation.
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
    old.dirty.add(await this.options.writeIndexes(old.sessions));
    await old.dirty.flush(this.options.sync);
    await old.handle.close();
    await unlinkIfPresent(old.path);
    liveLogs.delete(old.path);
    await syncPath(this.options.root, "dir", this.options.sync);
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
      if (generation.records >= this.options.maxRecords || generation.bytes >= this.options.maxBytes) this.options.onFull();
    }
  }

  private async createGeneration(): Promise<LogGeneration> {
    this.generation += 1;
    const path = join(this.options.root, `${PREFIX}${this.instance}-${this.generation.toString().padStart(10, "0")}`);
    await ensureDir(this.options.root);
    if (!this.rootSynced) {
      // The sessions directory may be new: its own entry must be durable before a log inside it counts.
      await syncPath(dirname(this.options.root), "dir", this.options.sync);
      this.rootSynced = true;
    }
    const handle = await open(path, "a", FILE_MODE);
    liveLogs.add(path);
    await syncPath(this.options.root, "dir", this.options.sync);
    return new LogGeneration(path, handle);
  }
}

/** How the records of dead logs are applied: one by one, then `finish` once all were (for what is written once per replay). */
export interface LogReplay {
  /** Applies one record; returns what it wrote without fsync, or `null` if the record is ignored. */
  apply(payload: Buffer): Promise<Touched | null>;
  finish(): Promise<Touched>;
}

/**
 * Replays the logs left by dead instances under `root`, in order, through
 * `replay`, makes what it wrote durable, then deletes those logs. A log of a
 * live store in this process is left alone.
 */
export async function recoverLogs(root: string, sync: SyncFn, replay: LogReplay): Promise<number> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if (isNotFound(error)) return 0;
    throw error;
  }
  const logs = names.filter((name) => isLogFileName(name) && !liveLogs.has(join(root, name))).sort();
  if (logs.length === 0) return 0;
  const dirty = new DirtySet();
  let replayed = 0;
  for (const name of logs) {
    for (const payload of parseRecords(await readFile(join(root, name)))) {
      const touched = await replay.apply(payload);
      if (touched !== null) dirty.add(touched);
      replayed += 1;
    }
  }
  dirty.add(await replay.finish());
  await dirty.flush(sync);
  await syncPath(root, "dir", sync);
  for (const name of logs) await unlinkIfPresent(join(root, name));
  await syncPath(root, "dir", sync);
  return replayed;
}
