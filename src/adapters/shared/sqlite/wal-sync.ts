import { open, type FileHandle } from "node:fs/promises";

/** How the WAL file is made durable; injectable so tests can count and delay syncs. */
export type SyncFile = (handle: FileHandle) => Promise<void>;

const datasync: SyncFile = (handle) => handle.datasync();

/**
 * Makes SQLite commits durable without blocking the event loop.
 *
 * With `synchronous = FULL`, SQLite fsyncs its write-ahead log inside COMMIT,
 * and libsql's API is synchronous: the whole process stops for every fsync
 * (17% of the accept path's time in our benchmark). Instead the connection
 * runs with `synchronous = NORMAL` (in WAL mode a commit then writes its
 * frames to the log without syncing them; checkpoints still sync both files)
 * and the store calls {@link request} after a commit that must be durable: it
 * fdatasyncs the `-wal` file on libuv's thread pool, so the frames of every
 * commit made before that call are on disk when it resolves. Callers are
 * answered only then, exactly as FULL would answer them, while the event loop
 * goes on parsing the next requests.
 *
 * Syncs are grouped: one runs at a time, and every request made while one
 * runs is served by the single next one. {@link settled} waits for what was
 * requested so far without asking for more, so work that needs no durability
 * of its own is never answered before the durable commits that preceded it
 * (a message is never claimed for sending before its acceptance is on disk).
 *
 * A failed fdatasync poisons the syncer: every later request fails with the
 * same error (a retried fsync can report success over pages the kernel
 * already dropped), until {@link recover} is called once the frames were
 * made durable another way (a checkpoint that rewrote them into the database
 * file and synced it, then emptied the log: see `DurableDatabase`).
 */
export class WalSync {
  readonly #path: string;
  readonly #sync: SyncFile;
  #handle: Promise<FileHandle> | undefined;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #failure: Error | undefined;
  #closed = false;

  /** `walPath`: the database file's path + `-wal`; it exists once the connection is in WAL mode. */
  constructor(walPath: string, sync: SyncFile = datasync) {
    this.#path = walPath;
    this.#sync = sync;
  }

  /** Set once a sync failed: the store can no longer promise durability. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /**
   * Clears a failure, with a fresh file handle for the next sync (a new open
   * file description: the old one's error was reported once and would read
   * as success from now on). Only for a caller that made every commit
   * durable by other means; false while a sync is still running.
   */
  recover(): boolean {
    if (this.#running !== undefined || this.#next !== undefined) return false;
    this.#failure = undefined;
    const handle = this.#handle;
    this.#handle = undefined;
    void handle?.then((h) => h.close()).catch(() => undefined);
    return true;
  }

  /** Resolves once a sync that started after this call completed: every commit made before it is durable. */
  request(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new Error("the write-ahead log is closed"));
    if (this.#running === undefined) return (this.#running = this.#start());
    // One is running: it may have started before our commit. Share the next one.
    this.#next ??= this.#running.then(
      () => this.#promote(),
      () => this.#promote(),
    );
    return this.#next;
  }

  /** Resolves once every sync requested so far has completed (at once when none is pending). */
  settled(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    return this.#next ?? this.#running ?? Promise.resolve();
  }

  /** Waits for pending syncs, then closes the file. Call before closing the database (which removes the WAL). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.settled().catch(() => undefined);
    const handle = await this.#handle?.catch(() => undefined);
    this.#handle = undefined;
    await handle?.close();
  }

  #promote(): Promise<void> {
    this.#next = undefined;
    if (this.#failure) return Promise.reject(this.#failure);
    return (this.#running = this.#start());
  }

  async #start(): Promise<void> {
    try {
      this.#handle ??= open(this.#path, "r+");
      await this.#sync(await this.#handle);
    } catch (error) {
      this.#failure ??= error instanceof Error ? error : new Error(String(error));
      throw this.#failure;
    } finally {
      // Cleared only if no newer sync replaced it meanwhile.
      if (this.#next === undefined) this.#running = undefined;
    }
  }
}
