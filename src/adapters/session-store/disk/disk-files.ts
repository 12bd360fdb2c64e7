import { readdir, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { fsyncDir, isNotFound, unlinkIfPresent, writeFileAtomic } from "../shared/durable-files.ts";

export const JOURNAL = ".journal";

/**
 * A batch as the journal records it: temp files to rename onto their targets
 * and files to remove, all in one session directory. Replaying it is
 * idempotent: a temp file that is gone has already been renamed. The last
 * journal is left in place (the next batch replaces it), so recovery can
 * always replay it safely.
 */
export interface JournalRecord {
  readonly batch: string;
  readonly renames: ReadonlyArray<readonly [tmp: string, target: string]>;
  readonly unlinks: readonly string[];
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
  let text: string | null = null;
  try {
    text = await readFile(join(dir, JOURNAL), "utf8");
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  // The journal is itself written atomically, so it always parses.
  if (text !== null) await applyJournal(dir, JSON.parse(text) as JournalRecord);
  for (const name of await readdir(dir)) {
    if (name.startsWith(".tmp-")) await unlinkIfPresent(join(dir, name));
  }
}
