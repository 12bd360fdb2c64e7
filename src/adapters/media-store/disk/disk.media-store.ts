import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { DomainError, StoreUnavailableError, type WriteHealth } from "../../../domain/errors.ts";
import type { Clock } from "../../../domain/ports/clock.port.ts";
import type { MediaSource, MediaStore, PutMediaOptions, StoredMedia } from "../../../domain/ports/media-store.port.ts";
import { DurableDatabase } from "../../shared/sqlite/durable-database.ts";
import { asStoreError } from "../../shared/storage-failure.ts";
import { takeIn } from "../shared/media-intake.ts";
import { migrate, type MediaRow } from "./schema.ts";

export interface DiskMediaStoreOptions {
  /** The media directory (`DATA_DIR/media`); created 0700 if missing. */
  readonly dir: string;
  /** Of the index database, as for the other SQLite stores. */
  readonly synchronous?: "full" | "normal";
  /** Creation times come from here (tests age files with it). */
  readonly clock?: Clock;
  /** Called when the store stops being able to write (with why) and when it can again (undefined). */
  readonly onAvailability?: (failure: StoreUnavailableError | undefined) => void;
}

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
const SWEEP_PAGE = 500;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const STORE = "media store";

/**
 * The MediaStore on the local disk. Under `dir`:
 * - `blobs/<first two hex>/<sha256>`: the bytes, once per hash, 0600;
 * - `tmp/`: uploads being written; a file gets its final name only once it
 *   is complete and fsynced (rename in one filesystem is atomic), so no
 *   reader ever sees part of a file, and whatever a crash leaves here is
 *   removed when the store opens;
 * - `media.db`: the index (id -> hash, size, type, name, time) in SQLite.
 *
 * A file is renamed into place before its row is committed, and its row is
 * removed before the file: a crash between the two leaves bytes no id uses,
 * which the next sweep removes, never an id without its bytes. Work on one
 * hash (placing, forgetting, sweeping its file) runs one at a time.
 */
export class DiskMediaStore implements MediaStore {
  readonly #blobs: string;
  readonly #tmp: string;
  readonly #database: DurableDatabase;
  readonly #clock: Clock;
  readonly #locks = new KeyedLock();
  #closed = false;
  /** The storage failure the last file write met, until one succeeds again. */
  #fileFailure: StoreUnavailableError | undefined;
  readonly #onAvailability: ((failure: StoreUnavailableError | undefined) => void) | undefined;

  constructor(options: DiskMediaStoreOptions) {
    this.#blobs = join(options.dir, "blobs");
    this.#tmp = join(options.dir, "tmp");
    this.#clock = options.clock ?? { now: () => new Date() };
    this.#onAvailability = options.onAvailability;
    for (const dir of [options.dir, this.#blobs, this.#tmp]) mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    // Uploads a crash (kill -9) cut off: no row names them, nobody will finish them.
    for (const name of readdirSync(this.#tmp)) rmSync(join(this.#tmp, name), { force: true, recursive: true });
    this.#database = new DurableDatabase({
      path: join(options.dir, "media.db"),
      synchronous: options.synchronous ?? "full",
      busyTimeoutMs: 5000,
      store: STORE,
      onAvailability: options.onAvailability,
      migrate,
      closedError: unavailable,
    });
  }

  async put(source: MediaSource, options: PutMediaOptions): Promise<StoredMedia> {
    this.#ensureOpen();
    const tmp = join(this.#tmp, `${randomUUID()}.part`);
    try {
      const { sha256, size, mimeType } = await this.#files(async () => {
        const handle = await open(tmp, "wx", FILE_MODE);
        try {
          const intake = await takeIn(source, options.maxBytes, (chunk) => writeAll(handle, chunk));
          await handle.sync();
          return intake;
        } finally {
          await handle.close();
        }
      });
      return await this.#locks.run(sha256, async () => {
        await this.#files(() => this.#place(tmp, sha256));
        const meta: StoredMedia = {
          id: `med_${randomUUID()}`,
          size,
          sha256,
          mimeType,
          filename: options.filename,
          createdAt: this.#clock.now(),
        };
        await this.#database.run(() =>
          this.#database.statements
            .get("INSERT INTO media (id, sha256, size, mime_type, filename, created_at) VALUES (?, ?, ?, ?, ?, ?)")
            .run([meta.id, sha256, size, mimeType, meta.filename ?? null, meta.createdAt.getTime()]),
        );
        return meta;
      });
    } finally {
      await unlinkIfPresent(tmp).catch(() => undefined);
    }
  }

  async get(id: string): Promise<{ meta: StoredMedia; stream: ReadableStream<Uint8Array> } | undefined> {
    const meta = await this.stat(id);
    if (!meta) return undefined;
    let handle: FileHandle;
    try {
      // Opened now: a delete after this leaves the open file readable to its end.
      handle = await open(this.#blobPath(meta.sha256), "r");
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    const stream = Readable.toWeb(handle.createReadStream()) as unknown as ReadableStream<Uint8Array>;
    return { meta, stream };
  }

  async stat(id: string): Promise<StoredMedia | undefined> {
    const row = this.#row(id);
    return row && toStoredMedia(row);
  }

  async delete(id: string): Promise<boolean> {
    const row = this.#row(id);
    return row ? this.#forget(row.id, row.sha256) : false;
  }

  async sweep(olderThan: Date, stillNeeded: (id: string) => boolean | Promise<boolean>): Promise<number> {
    this.#ensureOpen();
    let removed = 0;
    let after: { at: number; id: string } = { at: Number.MIN_SAFE_INTEGER, id: "" };
    for (;;) {
      const rows = this.#database.statements.all<Pick<MediaRow, "id" | "sha256" | "created_at">>(
        `SELECT id, sha256, created_at FROM media WHERE created_at < ? AND (created_at, id) > (?, ?)
         ORDER BY created_at, id LIMIT ?`,
        [olderThan.getTime(), after.at, after.id, SWEEP_PAGE],
      );
      for (const row of rows) {
        if (!(await stillNeeded(row.id)) && (await this.#forget(row.id, row.sha256))) removed++;
      }
      const last = rows.at(-1);
      if (!last || rows.length < SWEEP_PAGE) break;
      after = { at: last.created_at, id: last.id };
    }
    await this.#removeUnusedBlobs();
    return removed;
  }

  /**
   * `ok`, or `down` with the reason while the disk fails. After a failed file
   * write, writes (and removes) a one-byte file first, so the store reports
   * its recovery even when nobody uploads.
   */
  async health(): Promise<WriteHealth> {
    const index = await this.#database.health();
    if (index.status !== "ok") return index;
    if (this.#fileFailure === undefined) return { status: "ok" };
    const probe = join(this.#tmp, `${randomUUID()}.probe`);
    try {
      await this.#files(async () => {
        const handle = await open(probe, "wx", FILE_MODE);
        try {
          await writeAll(handle, new Uint8Array([0]));
          await handle.sync();
        } finally {
          await handle.close();
        }
      });
      return { status: "ok" };
    } catch (error) {
      return { status: "down", detail: error instanceof Error ? error.message : String(error) };
    } finally {
      await unlinkIfPresent(probe).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#database.close();
  }

  /** Gives the complete temp file its final name, unless the same bytes are there already. */
  async #place(tmp: string, sha256: string): Promise<void> {
    const blob = this.#blobPath(sha256);
    if (await exists(blob)) return;
    const shard = dirname(blob);
    if (await mkdir(shard, { recursive: true, mode: DIR_MODE })) await fsyncDir(this.#blobs);
    await rename(tmp, blob);
    await fsyncDir(shard);
  }

  /** Removes the id's row, then its bytes if no other row uses them; false when the row was gone. */
  #forget(id: string, sha256: string): Promise<boolean> {
    return this.#locks.run(sha256, async () => {
      const { deleted, left } = await this.#database.run(() => {
        const result = this.#database.statements.get("DELETE FROM media WHERE id = ?").run([id]);
        return { deleted: Number(result.changes) > 0, left: this.#usersOf(sha256) };
      });
      if (left === 0) await unlinkIfPresent(this.#blobPath(sha256));
      return deleted;
    });
  }

  /** Bytes that no row uses: left by a crash between placing a file and committing its row (or the reverse on delete). */
  async #removeUnusedBlobs(): Promise<void> {
    for (const shard of await readdir(this.#blobs)) {
      const names = await readdir(join(this.#blobs, shard)).catch(() => [] as string[]);
      for (const sha256 of names.filter((name) => SHA256_HEX.test(name))) {
        await this.#locks.run(sha256, async () => {
          if (this.#usersOf(sha256) === 0) await unlinkIfPresent(this.#blobPath(sha256));
        });
      }
    }
  }

  #usersOf(sha256: string): number {
    const [row] = this.#database.statements.all<{ n: number }>("SELECT count(*) AS n FROM media WHERE sha256 = ?", [
      sha256,
    ]);
    return row?.n ?? 0;
  }

  #row(id: string): MediaRow | undefined {
    this.#ensureOpen();
    return this.#database.statements.all<MediaRow>("SELECT * FROM media WHERE id = ?", [id])[0];
  }

  #blobPath(sha256: string): string {
    return join(this.#blobs, sha256.slice(0, 2), sha256);
  }

  /**
   * Runs file work: a storage failure (disk full, I/O error) rejects as a
   * StoreUnavailableError and marks the store down, a success marks it up.
   * Other errors (the upload too large, its source failing) pass unchanged.
   */
  async #files<T>(work: () => Promise<T>): Promise<T> {
    try {
      const value = await work();
      if (this.#fileFailure !== undefined) {
        this.#fileFailure = undefined;
        this.#onAvailability?.(undefined);
      }
      return value;
    } catch (error) {
      const translated = asStoreError(STORE, error);
      if (translated instanceof StoreUnavailableError) {
        if (this.#fileFailure === undefined) this.#onAvailability?.(translated);
        this.#fileFailure = translated;
      }
      throw translated;
    }
  }

  #ensureOpen(): void {
    if (this.#closed) throw unavailable();
  }
}

/** Runs the work given for one key one at a time, in call order; different keys run side by side. */
class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}

function toStoredMedia(row: MediaRow): StoredMedia {
  return {
    id: row.id,
    size: row.size,
    sha256: row.sha256,
    mimeType: row.mime_type,
    filename: row.filename ?? undefined,
    createdAt: new Date(row.created_at),
  };
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

async function fsyncDir(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

function unavailable(): DomainError {
  return new DomainError("STORE.UNAVAILABLE", "the media store is closed");
}
