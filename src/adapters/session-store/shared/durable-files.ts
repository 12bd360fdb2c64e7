import { randomBytes } from "node:crypto";
import { mkdir, open, rename, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";

/** Logins are secrets: directories and files are private to the gateway's user. */
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

export function newBatchId(): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString("hex")}`;
}

export async function ensureDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: DIR_MODE });
}

/** How a written file is made durable; injectable so tests can count or fail syncs. */
export type SyncFile = (handle: FileHandle) => Promise<void>;

const fsyncFile: SyncFile = (handle) => handle.sync();

/** Writes a file that is durable once this resolves (data fsynced; the caller fsyncs the directory). */
export async function writeDurable(path: string, data: string | Uint8Array, sync: SyncFile = fsyncFile): Promise<void> {
  const handle = await open(path, "w", FILE_MODE);
  try {
    await handle.writeFile(data);
    await sync(handle);
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

/**
 * Replaces `dir/name` with `data`: a temp file in the same directory,
 * written and fsynced, then renamed over the old file. A reader sees the old
 * or the new content, never a mix, and a power loss never exposes a torn
 * file; the rename itself is durable once `dir` is fsynced, which is left to
 * the caller (a checkpoint syncs each directory once for many files).
 */
export async function replaceFile(
  dir: string,
  name: string,
  data: string | Uint8Array,
  sync: SyncFile = fsyncFile,
): Promise<void> {
  const tmp = join(dir, `.tmp-${newBatchId()}`);
  await writeDurable(tmp, data, sync);
  await rename(tmp, join(dir, name));
}

/** {@link replaceFile}, then the directory fsynced: durable once this resolves. */
export async function writeFileAtomic(dir: string, name: string, data: string | Uint8Array): Promise<void> {
  await replaceFile(dir, name, data);
  await fsyncDir(dir);
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
