import { dirname, join } from "node:path";
import { ensureDir, unlinkIfPresent } from "../shared/durable-files.ts";
import { writeMeta, type MetaFile } from "./disk-index.ts";
import { writeSyncedFile, type SyncFn } from "./durable-sync.ts";

/** The files a committed record writes (whole new content) and removes. */
export interface FileChanges {
  readonly put: ReadonlyArray<readonly [file: string, text: string]>;
  readonly del: readonly string[];
}

/**
 * Files a checkpoint writes at once. One at a time, a checkpoint of the 812
 * pre-keys a new login uploads took 8 s here (an fsync each); four lanes
 * took about 2.5 s and still leave the thread pool (4 threads) to the
 * foreground between two file operations.
 */
const WRITE_LANES = 4;

/** The newest committed content of one file: its text, or `null` for a removed file. */
interface PendingWrite {
  readonly text: string | null;
}

/**
 * The committed writes of one session that are not in its files yet: per
 * file, only the newest (a key rewritten by many batches is written once).
 * Reads look here before the files. A checkpoint writes them (see
 * `write-ahead-log.ts`).
 *
 * Each commit stores a new `PendingWrite` object, so its identity stands
 * for that write: `write` drops an entry only if it is still the very
 * object whose text it just put in the file. A batch committed meanwhile
 * (in the next log generation) replaced it, so it stays, for that
 * generation's checkpoint to write; its file holds an older value until
 * then, which no read sees (reads take the pending one), and which the
 * newer generation's log rewrites if the process dies first.
 */
export class PendingFiles {
  private readonly writes = new Map<string, PendingWrite>();

  get size(): number {
    return this.writes.size;
  }

  /** The newest committed text of `file` not yet written to it; `null`: removed; `undefined`: the file is up to date. */
  get(file: string): string | null | undefined {
    return this.writes.get(file)?.text;
  }

  /** Takes the files of a committed record; they supersede any pending content of the same files. */
  add(changes: FileChanges): void {
    for (const [file, text] of changes.put) this.writes.set(file, { text });
    for (const file of changes.del) this.writes.set(file, { text: null });
  }

  /**
   * Writes each pending file once, with its newest content at that moment
   * (fsynced temp file + rename; a removal unlinks), and forgets the ones
   * no commit replaced meanwhile. Up to {@link WRITE_LANES} files are
   * written at once, each file once per call; calls must not overlap
   * (checkpoints run one at a time), so a file only ever receives newer
   * content than its previous write. The renames and unlinks are durable
   * once `dir` is fsynced.
   */
  async write(dir: string, sync: SyncFn): Promise<void> {
    if (this.writes.size === 0) return;
    await ensureDir(dir);
    const files = [...this.writes.keys()];
    let next = 0;
    let failed = false;
    const lane = async (): Promise<void> => {
      while (!failed && next < files.length) {
        const file = files[next++]!;
        const write = this.writes.get(file);
        if (write === undefined) continue;
        if (write.text === null) await unlinkIfPresent(join(dir, file));
        else await writeSyncedFile(dir, file, write.text, sync);
        if (this.writes.get(file) === write) this.writes.delete(file);
      }
    };
    // Every lane has stopped before this returns or throws: nothing of this
    // checkpoint is still writing when the caller handles its failure.
    const outcomes = await Promise.allSettled(
      Array.from({ length: Math.min(WRITE_LANES, files.length) }, () =>
        lane().catch((error: unknown) => {
          failed = true;
          throw error;
        }),
      ),
    );
    const failure = outcomes.find((outcome) => outcome.status === "rejected");
    if (failure) throw failure.reason;
  }
}

/**
 * Checkpoints one session directory: its pending files, then its `.meta`
 * (unless `null`: an unreadable index is left for loading to keep aside).
 * Returns the directories to fsync before a log holding these writes may
 * be deleted (the parent holds the session directory's own entry, which
 * may be new).
 */
export async function writeSessionDir(
  dir: string,
  pending: PendingFiles,
  meta: MetaFile | null,
  sync: SyncFn,
): Promise<string[]> {
  await pending.write(dir, sync);
  if (meta !== null) await writeMeta(dir, meta, sync);
  return [dir, dirname(dir)];
}
