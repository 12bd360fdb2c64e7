import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { open, rm, statfs } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SqliteSessionStore } from "../../../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import type { StoredValue } from "../../../src/domain/ports/session-store.port.ts";
import { sqliteStoreHarness } from "./sqlite-store-harness.ts";

const h = sqliteStoreHarness("sqlite-sessions-failure-");

describe("SqliteSessionStore after a failed sync (injected: fdatasync of the WAL throws EIO)", () => {
  it("rejects the write with STORE.UNAVAILABLE, reports degraded, and works again with no restart", async () => {
    let failing = false;
    const store = h.open({
      syncFile: async (handle: FileHandle) => {
        if (failing) throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
        await handle.datasync();
      },
    });
    await store.setMany("s", new Map<string, StoredValue>([["creds", "v1"]]));
    failing = true;
    await expect(store.setMany("s", new Map([["other", 1]]))).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
    expect(store.health()).toMatchObject({ status: "degraded", detail: expect.stringContaining("EIO") });
    await expect(store.setMany("s", new Map([["other", 2]]))).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
    failing = false;
    await store.setMany("s", new Map<string, StoredValue>([["creds", "v2"]]));
    expect(store.health()).toEqual({ status: "ok" });
    expect((await store.getMany("s", ["creds"])).get("creds")).toBe("v2");
  });
});

/** A small tmpfs of our own (root only); null when this machine does not let us mount one. */
function mountSmallTmpfs(): string | null {
  const dir = mkdtempSync(join(tmpdir(), "sqlite-sessions-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir], { stdio: "ignore" });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

const tmpfs = mountSmallTmpfs();
afterAll(() => {
  if (tmpfs === null) return;
  // Lazy: a file the closed connection's thread pool still holds must not keep the mount alive.
  execFileSync("umount", ["-l", tmpfs]);
  rmSync(tmpfs, { recursive: true, force: true });
});

/** Fills the file system until a write fails with ENOSPC; returns the filler file. */
async function fill(dir: string): Promise<string> {
  const path = join(dir, "filler");
  const handle = await open(path, "w");
  try {
    const { bavail, bsize } = await statfs(dir);
    await handle.write(Buffer.alloc(Math.max(0, bavail * bsize - 64 * 1024)));
    for (;;) await handle.write(Buffer.alloc(4096));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    await handle.close();
  }
  return path;
}

describe.skipIf(tmpfs === null)("SqliteSessionStore on a real full file system (a 2 MB tmpfs)", () => {
  it("rejects writes with STORE.UNAVAILABLE while it is full, keeps serving reads, and heals once there is room", async () => {
    const store = new SqliteSessionStore({ path: join(tmpfs!, "sessions.db") });
    try {
      await store.setMany("s", new Map<string, StoredValue>([["creds", { key: Buffer.alloc(32, 1) }]]));
      const filler = await fill(tmpfs!);
      const big = new Map<string, StoredValue>([["pre-keys", Buffer.alloc(256 * 1024, 3)]]);
      await expect(store.setMany("s", big)).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
      expect(store.health().status).toBe("degraded");
      expect(store.health().detail).toMatch(/full/i);
      expect((await store.getMany("s", ["creds"])).get("creds")).toEqual({ key: Buffer.alloc(32, 1) });
      await rm(filler);
      await store.setMany("s", big);
      expect(store.health()).toEqual({ status: "ok" });
      expect([...(await store.entries("s")).keys()].sort()).toEqual(["creds", "pre-keys"]);
    } finally {
      await store.close();
    }
  });
});
