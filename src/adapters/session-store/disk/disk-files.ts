import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;
export const JOURNAL = ".journal";

/**
 * A batch as the journal records it: temp files to rename onto their targets
 * and files to remove, all in one session directory. Replaying it is
 * idempotent: a temp file that is gone has already been renamed.
 */
export interface JournalRecord {
  readonly batch: string;
  readonly renames: ReadonlyArray<readonly [tmp: string, target: string]>;
  readonly unlinks: readonly string[];
}

export function newBatchId(): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString("hex")}`;
}

export async function ensureDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: DIR_MODE });
}

/** Writes a file that is durable once this resolves (data fsynced; the caller fsyncs the directory). */
export async function writeDurable(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, "w", FILE_MODE);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function fsyncDir(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** temp file, fsync, rename, fsync dir: the file is either the old or the new content. */
export async function writeFileAtomic(dir: string, name: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dir, `.tmp-${newBatchId()}`);
  await writeDurable(tmp, data);
  await rename(tmp, join(dir, name));
  await fsyncDir(dir);
}

/**
 * Commits a batch: the journal rename is the commit point. Before it, a crash
 * leaves only temp files (removed on recovery); after it, recovery replays
 * the journal.
 */
export async function commitJournal(dir: string, record: JournalRecord): Promise<void> {
  await writeFileAtomic(dir, JOURNAL, JSON.stringify(record));
}

export async function applyJournal(dir: string, record: JournalRecord): Promise<void> {
  for (const [tmp, target] of record.renames) {
    try {
      await rename(join(dir, tmp), join(dir, target));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  for (const name of record.unlinks) await unlinkIfPresent(join(dir, name));
  await fsyncDir(dir);
}

/**
 * Brings a session directory back to a committed state after a crash: replays
 * the last journal (a no-op when it was fully applied) and removes temp files
 * of a batch that never reached its commit point.
 */
export async function recoverDir(dir: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(join(dir, JOURNAL), "utf8");
  } catch (error) {
    if (isNotFound(error)) {
      await removeOrphanTemps(dir);
      return;
    }
    throw error;
  }
  // The journal is itself written atomically, so it always parses.
  const record = JSON.parse(text) as JournalRecord;
  await applyJournal(dir, record);
  await removeOrphanTemps(dir);
}

async function removeOrphanTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith(".tmp-")) await unlinkIfPresent(join(dir, name));
  }
}

export async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}
