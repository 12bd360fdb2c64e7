import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { keyToFileName } from "../../../src/adapters/session-store/disk/disk-key-names.ts";
import { DiskSessionStoreClosedError } from "../../../src/adapters/session-store/disk/disk-store-closed-error.ts";
import type { SyncFn } from "../../../src/adapters/session-store/disk/durable-sync.ts";
import { decodeBufferJson } from "../../../src/adapters/session-store/shared/buffer-json.ts";
import type { StoredValue } from "../../../src/domain/ports/session-store.port.ts";
import { crash, diskStoreHarness, failingSync, realSync } from "./disk-store-harness.ts";

/*
 * A batch resolves at its commit point (its log record durable) and writes
 * no file: its files wait in memory, where reads find them, until the
 * checkpoint of its log generation writes each once (see
 * `write-ahead-log.ts`).
 */
// No timed checkpoint: each test says when one runs.
const disk = diskStoreHarness("disk-checkpoint-", { checkpoint: { intervalMs: 60_000 } });
const { open, root, sessionDir, logFiles } = disk;

const keyPath = (session: string, key: string) => join(sessionDir(session), keyToFileName(key));
const onDisk = async (session: string, key: string): Promise<StoredValue | "absent"> => {
  try {
    return decodeBufferJson(await readFile(keyPath(session, key), "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "absent";
    throw error;
  }
};

/** A sync that holds the next file sync (a checkpoint writing a file) until released. */
function gatedSync(): { sync: SyncFn; arm(): Promise<void>; release(): void } {
  let armed: { reached: () => void; gate: Promise<void> } | null = null;
  let release = () => {};
  return {
    sync: async (handle, what) => {
      const hold = what === "file" ? armed : null;
      if (hold !== null) {
        armed = null;
        hold.reached();
        await hold.gate;
      }
      await realSync(handle, what);
    },
    arm() {
      return new Promise<void>((reached) => {
        armed = { reached, gate: new Promise<void>((resolve) => (release = resolve)) };
      });
    },
    release: () => release(),
  };
}

describe("DiskSessionStore checkpoints: a batch resolves at its commit point", () => {
  it("resolves before its key file exists, and a read right after sees it (a put, an update, a delete)", async () => {
    const store = open();
    await store.setMany(
      "s",
      new Map([
        ["creds", "c1"],
        ["pre-key-1", "p1"],
      ]),
    );
    expect(await onDisk("s", "creds")).toBe("absent");
    expect(await store.getVersioned("s", ["creds", "pre-key-1"])).toEqual(
      new Map([
        ["creds", { value: "c1", version: 1 }],
        ["pre-key-1", { value: "p1", version: 1 }],
      ]),
    );
    // A session whose first batch is not checkpointed yet has no directory, and is listed all the same.
    expect(await store.listSessions()).toEqual(["s"]);

    await store.checkpoint();
    expect(await onDisk("s", "creds")).toBe("c1");
    await store.setMany(
      "s",
      new Map<string, StoredValue | null>([
        ["creds", "c2"],
        ["pre-key-1", null],
      ]),
    );
    expect([await onDisk("s", "creds"), await onDisk("s", "pre-key-1")]).toEqual(["c1", "p1"]);
    expect(await store.entries("s")).toEqual(new Map([["creds", "c2"]]));
    expect(await store.getMany("s", ["pre-key-1"])).toEqual(new Map());
  });

  it("writes a key rewritten 50 times between checkpoints once, with its last value", async () => {
    const counts = { log: 0, file: 0, dir: 0 };
    const sync: SyncFn = async (handle, what) => {
      counts[what] += 1;
      await realSync(handle, what);
    };
    const store = open({ sync });
    await store.setMany("s", new Map([["session-1.0", 0]]));
    await store.checkpoint();
    counts.file = 0;
    for (let i = 1; i <= 50; i++) await store.setMany("s", new Map([["session-1.0", i]]));
    expect(await onDisk("s", "session-1.0")).toBe(0);
    expect(counts.file).toBe(0);
    expect((await store.getMany("s", ["session-1.0"])).get("session-1.0")).toBe(50);

    await store.checkpoint();
    expect(await onDisk("s", "session-1.0")).toBe(50);
    // Each file is written as a fsynced temp file: one for the key, one for `.meta`.
    expect(counts.file).toBe(2);
    expect((await readdir(sessionDir("s"))).filter((name) => name.startsWith(".tmp-"))).toEqual([]);
  });

  it("checkpoints on its record threshold without waiting for the timer", async () => {
    const store = open({ checkpoint: { records: 5, intervalMs: 60_000 } });
    for (let i = 0; i < 5; i++) await store.setMany("s", new Map([[`pre-key-${i}`, i]]));
    await vi.waitFor(async () => expect(await onDisk("s", "pre-key-4")).toBe(4), { timeout: 5_000, interval: 20 });
  });
});

describe("DiskSessionStore checkpoints: racing with new batches", () => {
  it("a batch committed while the checkpoint writes the same key keeps the newer value in reads, then on disk", async () => {
    const gated = gatedSync();
    let armed = false;
    const store = open({ sync: gated.sync, crashPoints: { afterCommit: () => (armed ? crash() : undefined) } });
    await store.setMany("s", new Map([["session-1.0", "v1"]]));
    const reached = gated.arm();
    const checkpoint = store.checkpoint();
    // The checkpoint holds v1 in its temp file, not yet renamed over the key's file.
    await reached;
    await store.setMany("s", new Map([["session-1.0", "v2"]]));
    gated.release();
    await checkpoint;
    // The checkpoint wrote v1 (the newest when it read it); v2 stays pending, for the next generation's checkpoint.
    expect(await onDisk("s", "session-1.0")).toBe("v1");
    expect(await store.getVersioned("s", ["session-1.0"])).toEqual(
      new Map([["session-1.0", { value: "v2", version: 2 }]]),
    );
    expect(await logFiles()).toHaveLength(1);

    // A crash now: the kept log brings v2 back over the older file.
    armed = true;
    await expect(store.setMany("s", new Map([["other", "o3"]]))).rejects.toThrow("simulated crash");
    const reopened = open();
    expect(await reopened.getVersioned("s", ["session-1.0", "other"])).toEqual(
      new Map([
        ["session-1.0", { value: "v2", version: 2 }],
        ["other", { value: "o3", version: 3 }],
      ]),
    );
    expect(await onDisk("s", "session-1.0")).toBe("v2");
  });

  it("the next checkpoint writes the newer value, and a later one never brings the older back", async () => {
    const gated = gatedSync();
    const store = open({ sync: gated.sync });
    await store.setMany("s", new Map([["session-1.0", "v1"]]));
    const reached = gated.arm();
    const checkpoint = store.checkpoint();
    await reached;
    await store.setMany(
      "s",
      new Map<string, StoredValue | null>([
        ["session-1.0", "v2"],
        ["gone", null],
      ]),
    );
    await store.setMany("s", new Map([["session-1.0", "v3"]]));
    gated.release();
    await checkpoint;
    await store.checkpoint();
    expect(await onDisk("s", "session-1.0")).toBe("v3");
    await store.setMany("s", new Map([["unrelated", 1]]));
    await store.checkpoint();
    expect(await onDisk("s", "session-1.0")).toBe("v3");
    expect((await store.getMany("s", ["session-1.0"])).get("session-1.0")).toBe("v3");
  });
});

describe("DiskSessionStore checkpoints: crashes, failures and close", () => {
  it("a crash after the commit point, with no file written yet: reopening replays the newest values", async () => {
    let armed = false;
    const store = open({ crashPoints: { afterCommit: () => (armed ? crash() : undefined) } });
    for (let i = 1; i <= 3; i++)
      await store.setMany(
        "s",
        new Map<string, StoredValue>([
          ["session-1.0", `v${i}`],
          [`pre-key-${i}`, i],
        ]),
      );
    await store.setMany("s", new Map<string, StoredValue | null>([["pre-key-1", null]]));
    expect(await onDisk("s", "session-1.0")).toBe("absent");
    armed = true;
    await expect(store.setMany("s", new Map([["session-1.0", "v5"]]))).rejects.toThrow("simulated crash");
    expect(store.health().status).toBe("degraded");

    const reopened = open();
    expect(await reopened.getVersioned("s", ["session-1.0", "pre-key-1", "pre-key-2", "pre-key-3"])).toEqual(
      new Map<string, unknown>([
        ["session-1.0", { value: "v5", version: 5 }],
        ["pre-key-2", { value: 2, version: 2 }],
        ["pre-key-3", { value: 3, version: 3 }],
      ]),
    );
    expect([await onDisk("s", "session-1.0"), await onDisk("s", "pre-key-1")]).toEqual(["v5", "absent"]);
    expect(await logFiles()).toEqual([]);
  });

  it("a failed checkpoint stops the store (degraded, calls refused); the next start replays the log", async () => {
    const syncs = failingSync("file");
    const store = open({ sync: syncs.sync });
    await store.setMany("s", new Map([["creds", "c1"]]));
    syncs.fail();
    await expect(store.checkpoint()).rejects.toThrow("EIO");
    expect(store.health()).toMatchObject({ status: "degraded" });
    await expect(store.getMany("s", ["creds"])).rejects.toThrow("EIO");
    await expect(store.setMany("s", new Map([["creds", "c2"]]))).rejects.toThrow("EIO");
    await store.close();
    expect(await open().getMany("s", ["creds"])).toEqual(new Map([["creds", "c1"]]));
  });

  it("a checkpoint of many files that fails on one has stopped writing the others when it reports the failure", async () => {
    const syncs = failingSync("file");
    const store = open({ sync: syncs.sync });
    await store.setMany("s", new Map(Array.from({ length: 60 }, (_, i): [string, StoredValue] => [`pre-key-${i}`, i])));
    // One file fails; the others would succeed if anything went on writing them.
    syncs.fail(1);
    await expect(store.checkpoint()).rejects.toThrow("EIO");
    const reported = syncs.calls;
    // Several files are written at once; none of them may still be going on after the report.
    expect(reported).toBeLessThan(60);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(syncs.calls).toBe(reported);
    expect(store.health()).toMatchObject({ status: "degraded" });
  });

  it("close() writes every file and .meta, and leaves no log", async () => {
    const LONG = "sender-key-".padEnd(300, "x");
    const store = open();
    await store.setMany(
      "a",
      new Map<string, StoredValue>([
        ["creds", { me: Buffer.from([1]) }],
        [LONG, "long"],
        ["pre-key-1", 1],
      ]),
    );
    await store.setMany("a", new Map<string, StoredValue | null>([["pre-key-1", null]]));
    await store.setMany("b", new Map([["creds", "b"]]));
    await store.close();
    expect(await logFiles()).toEqual([]);
    expect(await onDisk("a", "creds")).toEqual({ me: Buffer.from([1]) });
    expect([await onDisk("a", LONG), await onDisk("a", "pre-key-1"), await onDisk("b", "creds")]).toEqual([
      "long",
      "absent",
      "b",
    ]);
    expect(JSON.parse(await readFile(join(sessionDir("a"), ".meta"), "utf8"))).toEqual({
      format: 1,
      seq: 2,
      versions: { creds: 1, [LONG]: 1 },
      names: { [keyToFileName(LONG)]: LONG },
    });
    for (const session of ["a", "b"]) {
      for (const name of await readdir(sessionDir(session)))
        expect({ name, mode: (await stat(join(sessionDir(session), name))).mode & 0o777 }).toEqual({
          name,
          mode: 0o600,
        });
    }
  });

  it("a call after close() rejects with a clear error and creates nothing", async () => {
    const store = open();
    await store.setMany("main", new Map([["creds", "c"]]));
    await store.close();
    await rm(root(), { recursive: true });
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["setMany", () => store.setMany("main", new Map([["creds", "late"]]))],
      ["applyVersioned", () => store.applyVersioned("main", [{ key: "k", value: 1, version: 9 }], { seq: 9 })],
      ["clear", () => store.clear("main")],
      ["getMany", () => store.getMany("main", ["creds"])],
      ["entries", () => store.entries("main")],
      ["sessionMeta", () => store.sessionMeta("main")],
      ["listSessions", () => store.listSessions()],
      ["checkpoint", () => store.checkpoint()],
    ];
    for (const [name, call] of calls) {
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect({ name, error }).toEqual({ name, error: expect.any(DiskSessionStoreClosedError) });
      expect(error).toMatchObject({ code: "SESSION_STORE.CLOSED" });
    }
    expect(await readdir(disk.dataDir)).toEqual([]);
    // Closing again is harmless.
    await store.close();
  });
});
