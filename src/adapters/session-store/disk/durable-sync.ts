import { open, rename, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { FILE_MODE, isNotFound, newBatchId } from "../shared/durable-files.ts";

/** How a file or directory is made durable; injectable so tests can count syncs. */
export type SyncFn = (handle: FileHandle, what: "log" | "file" | "dir") => Promise<void>;

export const defaultSync: SyncFn = (handle, what) => (what === "log" ? handle.datasync() : handle.sync());

/** Fsyncs a file or directory by path; one that is gone meanwhile is skipped. */
export async function syncPath(path: string, what: "file" | "dir", sync: SyncFn): Promise<void> {
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

/** Fsyncs directories one after the other (a checkpoint runs in the background: it leaves the thread pool to the foreground). */
export async function syncDirs(dirs: Iterable<string>, sync: SyncFn): Promise<void> {
  for (const dir of dirs) await syncPath(dir, "dir", sync);
}

/**
 * Replaces `dir/name` with `text`: a temp file in the same directory,
 * written and fsynced, then renamed over the old file. A reader sees the
 * old or the new content, never a mix, and a power loss never exposes a
 * torn file; the rename itself is durable once the caller fsyncs `dir`.
 */
export async function writeSyncedFile(dir: string, name: string, text: string, sync: SyncFn): Promise<void> {
  const tmp = join(dir, `.tmp-${newBatchId()}`);
  const handle = await open(tmp, "w", FILE_MODE);
  try {
    await handle.writeFile(text);
    await sync(handle, "file");
  } finally {
    await handle.close();
  }
  await rename(tmp, join(dir, name));
}
