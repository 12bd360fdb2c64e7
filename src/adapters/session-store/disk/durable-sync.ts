import { open, type FileHandle } from "node:fs/promises";
import { isNotFound, replaceFile } from "../shared/durable-files.ts";

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

/** {@link replaceFile} with the store's sync: the caller fsyncs `dir` (once for many files). */
export function writeSyncedFile(dir: string, name: string, text: string, sync: SyncFn): Promise<void> {
  return replaceFile(dir, name, text, (handle) => sync(handle, "file"));
}
