import type { FileHandle } from "node:fs/promises";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WalSync } from "../../src/adapters/shared/sqlite/wal-sync.ts";

/** A sync function the test finishes by hand, counting the calls. */
function manualSync() {
  const pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  let calls = 0;
  const sync = (_handle: FileHandle): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      calls += 1;
      pending.push({ resolve, reject });
    });
  return {
    sync,
    get calls() {
      return calls;
    },
    /**
     * Waits (at most 5 s) until `n` syncs have started. A sync starts after
     * the log file is opened on libuv's thread pool, which a loaded machine
     * can take many event-loop turns to answer: bounded by time, not turns.
     */
    async started(n: number): Promise<void> {
      const deadline = Date.now() + 5000;
      while (calls < n && Date.now() < deadline) await pause();
      if (calls < n) throw new Error(`only ${calls} of ${n} syncs started`);
    },
    /** Finishes the oldest running sync, then lets its continuations run. */
    async finish(error?: Error): Promise<void> {
      const deadline = Date.now() + 5000;
      while (pending.length === 0 && Date.now() < deadline) await pause();
      const next = pending.shift();
      if (!next) throw new Error("no sync is running");
      if (error) next.reject(error);
      else next.resolve();
      for (let i = 0; i < 5; i++) await tick();
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const pause = () => new Promise((resolve) => setTimeout(resolve, 1));

function track(promise: Promise<void>): {
  readonly state: "pending" | "resolved" | "rejected";
  readonly error: unknown;
} {
  const result = { state: "pending" as "pending" | "resolved" | "rejected", error: undefined as unknown };
  promise.then(
    () => (result.state = "resolved"),
    (error: unknown) => ((result.state = "rejected"), (result.error = error)),
  );
  return result;
}

describe("WalSync", () => {
  let dir: string;
  let walPath: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "wal-sync-"));
    walPath = join(dir, "db-wal");
    await writeFile(walPath, "frames");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("answers a request only once a sync that started after it completed", async () => {
    const disk = manualSync();
    const wal = new WalSync(walPath, disk.sync);
    const first = track(wal.request());
    await disk.started(1);
    expect(first.state).toBe("pending");
    // Made while the first sync runs: that sync may have started before the commit it covers.
    const second = track(wal.request());
    await disk.finish();
    expect(first.state).toBe("resolved");
    expect(second.state).toBe("pending");
    expect(disk.calls).toBe(2);
    await disk.finish();
    expect(second.state).toBe("resolved");
    await wal.close();
  });

  it("serves every request made during one sync with a single next sync", async () => {
    const disk = manualSync();
    const wal = new WalSync(walPath, disk.sync);
    void wal.request();
    await disk.started(1);
    const waiting = Array.from({ length: 5 }, () => track(wal.request()));
    await disk.finish();
    await disk.finish();
    expect(disk.calls).toBe(2);
    expect(waiting.map((w) => w.state)).toEqual(Array(5).fill("resolved"));
    await wal.close();
  });

  it("settled() waits for the requested syncs without asking for another, and is immediate when idle", async () => {
    const disk = manualSync();
    const wal = new WalSync(walPath, disk.sync);
    const idle = track(wal.settled());
    await tick();
    expect(idle.state).toBe("resolved");
    void wal.request();
    const behind = track(wal.settled());
    await tick();
    expect(behind.state).toBe("pending");
    await disk.finish();
    expect(behind.state).toBe("resolved");
    expect(disk.calls).toBe(1);
    await wal.close();
  });

  it("fails the waiters of a failed sync and every later request (no retried fsync)", async () => {
    const disk = manualSync();
    const wal = new WalSync(walPath, disk.sync);
    const first = track(wal.request());
    await disk.started(1);
    const second = track(wal.request());
    await disk.finish(new Error("EIO"));
    await tick();
    expect(first.state).toBe("rejected");
    expect(second.state).toBe("rejected");
    expect(wal.failure?.message).toBe("EIO");
    await expect(wal.request()).rejects.toThrow("EIO");
    await expect(wal.settled()).rejects.toThrow("EIO");
    expect(disk.calls).toBe(1);
    await wal.close();
  });

  it("really syncs the file by default, and refuses requests after close", async () => {
    const wal = new WalSync(walPath);
    await wal.request();
    await wal.request();
    await wal.close();
    await expect(wal.request()).rejects.toThrow(/closed/);
  });

  it("fails (and stays failed) when the log file does not exist", async () => {
    const wal = new WalSync(join(dir, "missing-wal"));
    await expect(wal.request()).rejects.toThrow(/ENOENT/);
    expect(wal.failure).toBeDefined();
    await wal.close();
  });
});
