import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { FileHandle } from "node:fs/promises";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { CorruptEntryError, type StoredValue } from "../../../src/domain/ports/session-store.port.ts";
import { sqliteStoreHarness } from "./sqlite-store-harness.ts";

const h = sqliteStoreHarness("sqlite-sessions-");

/** Writes a raw value over a key with the store closed, as a damaged or hand-edited database would hold it. */
function overwriteRaw(path: string, session: string, key: string, text: string): void {
  const db = new Database(path);
  db.prepare("UPDATE entries SET value = ? WHERE session = ? AND key = ?").run([text, session, Buffer.from(key)]);
  db.close();
}

describe("SqliteSessionStore files", () => {
  it("keeps one database in WAL mode, private to its owner, in a directory it creates 0700", async () => {
    const store = h.open({ path: join(h.dataDir, "nested", "sessions.db") });
    await store.setMany("s1", new Map<string, StoredValue>([["creds", { a: Buffer.from([1]) }]]));
    expect((await stat(join(h.dataDir, "nested"))).mode & 0o777).toBe(0o700);
    for (const name of ["sessions.db", "sessions.db-wal"]) {
      expect({ name, mode: (await stat(join(h.dataDir, "nested", name))).mode & 0o777 }).toEqual({
        name,
        mode: 0o600,
      });
    }
    await store.close();
    const db = new Database(join(h.dataDir, "nested", "sessions.db"));
    expect(db.prepare("PRAGMA journal_mode").get()).toMatchObject({ journal_mode: "wal" });
    db.close();
  });

  it("keeps what it was given across a restart, with each key's version and the session's sequence", async () => {
    const first = h.open();
    await first.setMany("s", new Map<string, StoredValue>([["a", 1]]));
    await first.setMany("s", new Map<string, StoredValue>([["b", Buffer.from([2])]]));
    await first.close();
    const second = h.open();
    expect(await second.getVersioned("s", ["a", "b"])).toEqual(
      new Map([
        ["a", { value: 1, version: 1 }],
        ["b", { value: Buffer.from([2]), version: 2 }],
      ]),
    );
    expect(await second.sessionMeta("s")).toEqual({ seq: 2, complete: true });
  });

  it("refuses every call once closed, with STORE.UNAVAILABLE", async () => {
    const store = h.open();
    await store.close();
    await expect(store.getMany("s", ["a"])).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
    await expect(store.setMany("s", new Map([["a", 1]]))).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
    await expect(store.listSessions()).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
  });
});

describe("SqliteSessionStore corruption", () => {
  it("reports an undecodable value as CorruptEntryError, keeps it aside, and never as absent", async () => {
    const seed = h.open();
    await seed.setMany(
      "s",
      new Map<string, StoredValue>([
        ["creds", { noiseKey: Buffer.alloc(32, 1) }],
        ["pre-key-1", 1],
      ]),
    );
    await seed.close();
    overwriteRaw(h.path, "s", "creds", '{"noiseKey": {"type": "Buf');
    const fresh = h.open();
    const error = await fresh.getMany("s", ["creds"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptEntryError);
    expect(error).toMatchObject({ session: "s", key: "creds", code: "SESSION_STORE.CORRUPT_ENTRY" });
    expect((error as CorruptEntryError).location).toContain("kept_aside");
    await expect(fresh.getMany("s", ["creds"])).rejects.toBeInstanceOf(CorruptEntryError);
    await expect(fresh.entries("s")).rejects.toBeInstanceOf(CorruptEntryError);
    expect((await fresh.getMany("s", ["pre-key-1"])).get("pre-key-1")).toBe(1);
    await fresh.close();

    const db = new Database(h.path);
    expect(db.prepare("SELECT value FROM kept_aside WHERE session = 's'").all()).toEqual([
      { value: '{"noiseKey": {"type": "Buf' },
    ]);
    db.close();
    // After a restart the kept-aside creds are still reported, not taken for a fresh login.
    const restarted = h.open();
    await expect(restarted.getMany("s", ["creds"])).rejects.toBeInstanceOf(CorruptEntryError);
    expect(await restarted.listSessions()).toEqual(["s"]);
    // Writing the key again (an operator restoring it) clears the condition.
    await restarted.setMany("s", new Map([["creds", "restored"]]));
    expect((await restarted.getMany("s", ["creds"])).get("creds")).toBe("restored");
  });

  it("reports a session marked faulty (its bookkeeping unreadable) as corrupt until it is cleared", async () => {
    const store = h.open();
    await store.markFaulty("f", "/data/sessions.migrated/f/.meta.corrupt-1");
    expect(await store.listSessions()).toEqual(["f"]);
    await expect(store.getMany("f", ["creds"])).rejects.toMatchObject({ session: "f", key: null });
    await expect(store.setMany("f", new Map([["creds", 1]]))).rejects.toBeInstanceOf(CorruptEntryError);
    await store.clear("f");
    expect(await store.listSessions()).toEqual([]);
    await store.setMany("f", new Map([["creds", 1]]));
    expect((await store.getMany("f", ["creds"])).get("creds")).toBe(1);
  });
});

describe("SqliteSessionStore versions", () => {
  it("applies a versioned write only over an older version, and skips replayed ordered batches", async () => {
    const store = h.open();
    await store.applyVersioned("s", [{ key: "k", value: "v5", version: 5 }], { seq: 5 });
    await store.applyVersioned(
      "s",
      [
        { key: "k", value: "v3", version: 3 },
        { key: "j", value: "j3", version: 3 },
      ],
      { seq: 3 },
    );
    expect(await store.getVersioned("s", ["k", "j"])).toEqual(
      new Map([
        ["k", { value: "v5", version: 5 }],
        ["j", { value: "j3", version: 3 }],
      ]),
    );
    expect(
      await store.applyVersioned("s", [{ key: "gone", value: "x", version: 4 }], { seq: 4, onlyIfNewer: true }),
    ).toBe(false);
    expect((await store.getMany("s", ["gone"])).size).toBe(0);
    // A delete lands only over an older version too.
    await store.applyVersioned("s", [{ key: "k", value: null, version: 4 }], { seq: 5 });
    expect((await store.getMany("s", ["k"])).get("k")).toBe("v5");
    await store.setMany("s", new Map([["k", "next"]]));
    expect((await store.getVersioned("s", ["k"])).get("k")).toEqual({ value: "next", version: 6 });
    // A clear deletes what is older than its sequence, and moves the sequence.
    await store.applyVersioned("s", [{ key: "late", value: 1, version: 9 }], { seq: 9 });
    await store.applyVersioned("s", [], { seq: 8, clear: true });
    expect([...(await store.entries("s")).keys()]).toEqual(["late"]);
    expect((await store.sessionMeta("s")).seq).toBe(9);
  });
});

describe("SqliteSessionStore ordering on one session", () => {
  it("applies concurrent setMany calls in call order, each with the next sequence, and a read sees every earlier one", async () => {
    const store = h.open();
    const calls = Array.from({ length: 30 }, (_, i) => store.setMany("s", new Map([["k", i]])));
    const read = store.getVersioned("s", ["k"]);
    await Promise.all(calls);
    expect((await read).get("k")).toEqual({ value: 29, version: 30 });
    expect(await store.sessionMeta("s")).toEqual({ seq: 30, complete: true });
    // Across event-loop turns too: each write waits for nothing, yet lands after the previous one.
    for (let i = 0; i < 5; i++) {
      void store.setMany("s", new Map([["k", 100 + i]]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await store.getVersioned("s", ["k"])).get("k")).toEqual({ value: 104, version: 35 });
  });
});

describe("SqliteSessionStore durability", () => {
  it("resolves setMany only once its commit is synced to disk, and reads wait for it", async () => {
    let releaseSync: () => void = () => undefined;
    let syncs = 0;
    const store = h.open({
      syncFile: async (handle: FileHandle) => {
        syncs += 1;
        await new Promise<void>((resolve) => (releaseSync = resolve));
        await handle.datasync();
      },
    });
    let resolved = false;
    const write = store.setMany("s", new Map([["creds", "v1"]])).then(() => (resolved = true));
    let read = false;
    const reading = store.getMany("s", ["creds"]).then((got) => {
      read = true;
      return got;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect({ syncs, resolved, read }).toEqual({ syncs: 1, resolved: false, read: false });
    releaseSync();
    await write;
    expect(resolved).toBe(true);
    expect((await reading).get("creds")).toBe("v1");
  });
});
