import { execFile } from "node:child_process";
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const CHUNK = Buffer.alloc(64 * 1024, 0x5a);

/**
 * A real filesystem of `sizeBytes` (a tmpfs mounted on a fresh temp dir)
 * that a test fills to the last page and frees again. Mounting needs root
 * (CI runs as root); where it is refused this returns `skipped` with the
 * reason, and the test falls back to an injected failing write.
 */
export interface SmallFilesystem {
  readonly path: string;
  /** Writes a filler file until the filesystem answers ENOSPC. */
  fill(): void;
  /** Removes the filler file: the space is back. */
  free(): void;
  /** Unmounts (lazily if something still holds a file open) and removes the mount point. */
  close(): Promise<void>;
}

export async function mountSmallFilesystem(
  sizeBytes: number,
): Promise<{ readonly filesystem: SmallFilesystem } | { readonly skipped: string }> {
  const path = await mkdtemp(join(tmpdir(), "gateway-full-fs-"));
  try {
    await run("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes},mode=0700`, "tmpfs", path]);
  } catch (error) {
    await rm(path, { recursive: true, force: true });
    return { skipped: `mount -t tmpfs was refused (${(error as Error).message.split("\n")[0]})` };
  }
  const filler = join(path, "filler");
  return {
    filesystem: {
      path,
      fill() {
        const fd = openSync(filler, "a");
        try {
          for (;;) writeSync(fd, CHUNK);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
        } finally {
          closeSync(fd);
        }
      },
      free() {
        rmSync(filler, { force: true });
      },
      async close() {
        // libsql may keep a database file open past close() until it is collected: detach then.
        await run("umount", [path]).catch(() => run("umount", ["-l", path]));
        await rm(path, { recursive: true, force: true });
      },
    },
  };
}
