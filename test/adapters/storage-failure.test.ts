import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DurableDatabase } from "../../src/adapters/shared/sqlite/durable-database.ts";
import { asStoreError, storageFailureReason } from "../../src/adapters/shared/storage-failure.ts";
import { DomainError, StoreUnavailableError } from "../../src/domain/errors.ts";
import { mountSmallFilesystem, type SmallFilesystem } from "../support/full-filesystem.ts";
import { tempDir } from "../support/temp-dir.ts";

function coded(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("storage failures as STORE.UNAVAILABLE", () => {
  it.each([
    ["SQLITE_FULL", "database or disk is full", /disk is full \(SQLITE_FULL: database or disk is full\)/],
    ["SQLITE_IOERR", "disk I/O error", /I\/O error/],
    ["SQLITE_IOERR_WRITE", "disk I/O error", /I\/O error .*SQLITE_IOERR_WRITE/],
    ["SQLITE_READONLY", "attempt to write a readonly database", /cannot be written/],
    ["SQLITE_CANTOPEN", "unable to open database file", /could not be opened/],
    ["ENOSPC", "ENOSPC: no space left on device, write", /disk is full \(ENOSPC: no space left on device, write\)/],
    ["EDQUOT", "EDQUOT: disk quota exceeded", /quota/],
    ["EIO", "EIO: i/o error, fsync", /I\/O error/],
    ["EROFS", "EROFS: read-only file system, open", /read-only/],
  ])("translates %s into an error naming the store and the reason", (code, message, reason) => {
    const cause = coded(code, message);
    const error = asStoreError("message store", cause);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toBeInstanceOf(DomainError);
    const unavailable = error as StoreUnavailableError;
    expect(unavailable.code).toBe("STORE.UNAVAILABLE");
    expect(unavailable.store).toBe("message store");
    expect(unavailable.reason).toMatch(reason);
    expect(unavailable.message).toMatch(/^the message store cannot write: /);
    expect(unavailable.retryAfterS).toBeGreaterThan(0);
    expect(unavailable.cause).toBe(cause);
  });

  it.each([
    ["a constraint", coded("SQLITE_CONSTRAINT_UNIQUE", "UNIQUE constraint failed")],
    ["a busy database", coded("SQLITE_BUSY", "database is locked")],
    ["a missing file", coded("ENOENT", "no such file")],
    ["a domain error", new DomainError("MESSAGE.NOT_FOUND", "message m not found")],
    ["a bug", new TypeError("x is undefined")],
    ["a string", "boom"],
  ])("passes %s through unchanged", (_, error) => {
    expect(asStoreError("message store", error)).toBe(error);
    expect(storageFailureReason(error)).toBeUndefined();
  });

  it("keeps an error that is already STORE.UNAVAILABLE as it is", () => {
    const error = new StoreUnavailableError("media store", "the disk is full");
    expect(asStoreError("message store", error)).toBe(error);
  });
});

describe("DurableDatabase through a storage failure", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function open(path: string, syncFile?: ConstructorParameters<typeof DurableDatabase>[0]["syncFile"]) {
    const database = new DurableDatabase({
      path,
      store: "test store",
      synchronous: "full",
      busyTimeoutMs: 1000,
      migrate: (db) => db.exec("CREATE TABLE IF NOT EXISTS t (v TEXT NOT NULL)"),
      closedError: () => new DomainError("STORE.UNAVAILABLE", "closed"),
      ...(syncFile ? { syncFile } : {}),
    });
    cleanups.push(() => database.close());
    const insert = (v: string) =>
      database.run(() => void database.statements.get("INSERT INTO t (v) VALUES (?)").run([v]));
    const count = () => database.statements.all<{ n: number }>("SELECT count(*) AS n FROM t", [])[0]!.n;
    return { database, insert, count };
  }

  it("on a real full filesystem (tmpfs): rejects the whole batch, keeps the connection usable, resumes once there is space", async (ctx) => {
    const mounted = await mountSmallFilesystem(2 * 1024 * 1024);
    if ("skipped" in mounted) return ctx.skip(mounted.skipped);
    const fs: SmallFilesystem = mounted.filesystem;
    cleanups.push(() => fs.close());
    const { database, insert, count } = open(join(fs.path, "t.db"));
    await insert("before");

    fs.fill();
    // Writes big enough to need new pages in the log, all in one group transaction.
    const big = "x".repeat(256 * 1024);
    const results = await Promise.allSettled([insert(big), insert(big), insert(big), insert(big)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected", "rejected"]);
    for (const result of results) {
      const reason = (result as PromiseRejectedResult).reason as StoreUnavailableError;
      expect(reason).toBeInstanceOf(StoreUnavailableError);
      expect(reason.message).toMatch(/test store cannot write: the disk is full/);
    }
    // Nothing of the batch was kept, and no transaction was left open.
    expect(database.db.inTransaction).toBe(false);
    expect(count()).toBe(1);
    expect(await database.health()).toMatchObject({ status: "down", detail: expect.stringMatching(/disk is full/) });

    fs.free();
    await insert("after");
    expect(count()).toBe(2);
    expect(await database.health()).toEqual({ status: "ok" });
  });

  it("with an injected failing log sync (ENOSPC): refuses, reports down, then recovers by itself through a checkpoint", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    let failing = false;
    const { database, insert, count } = open(join(dir.path, "t.db"), (handle) =>
      failing ? Promise.reject(coded("ENOSPC", "ENOSPC: no space left on device, fdatasync")) : handle.datasync(),
    );
    await insert("before");

    failing = true;
    await expect(insert("during")).rejects.toMatchObject({
      code: "STORE.UNAVAILABLE",
      message: expect.stringMatching(
        /test store cannot write: writes could not be made durable: the disk is full \(ENOSPC/,
      ),
    });
    expect((await database.health()).status).toBe("down");

    failing = false;
    // Recovery is tried at most once a second: health turns ok by itself, with no write from anyone.
    const deadline = Date.now() + 10_000;
    while ((await database.health()).status !== "ok" && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(await database.health()).toEqual({ status: "ok" });
    await insert("after");
    // The commit whose sync failed was made (its caller was told it may not be durable): kept.
    expect(count()).toBe(3);
  });
});
