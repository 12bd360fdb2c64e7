import { randomBytes } from "node:crypto";
import { mkdir, open, rename, unlink } from "node:fs/promises";
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

/** temp file in the same directory, fsync, rename, fsync dir: readers see the old or the new content, never a mix. */
export async function writeFileAtomic(dir: string, name: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dir, `.tmp-${newBatchId()}`);
  await writeDurable(tmp, data);
  await rename(tmp, join(dir, name));
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
