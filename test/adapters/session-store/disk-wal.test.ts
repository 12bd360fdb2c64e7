import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { BufferJSON, useMultiFileAuthState } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { encodeBatch, type BatchRecord } from "../../../src/adapters/session-store/disk/disk-files.ts";
import { type SyncFn } from "../../../src/adapters/session-store/disk/durable-sync.ts";
import { frameRecord } from "../../../src/adapters/session-store/disk/log-frames.ts";
import { encodeBufferJson } from "../../../src/adapters/session-store/shared/buffer-json.ts";
import type { StoredValue } from "../../../src/domain/ports/session-store.port.ts";
import { crash, diskStoreHarness } from "./disk-store-harness.ts";

const disk = diskStoreHarness("disk-wal-");
const { open, root, sessionDir, logFiles } = disk;

/** Counts syncs by kind; each really syncs, so the store behaves as in production. */
function countingSync(): { sync: SyncFn; counts: Record<"log" | "file" | "dir", number> } {
  const counts = { log: 0, file: 0, dir: 0 };
  const sync: SyncFn = async (handle: FileHandle, what) => {
    counts[what] += 1;
    await (what === "log" ? handle.datasync() : handle.sync());
  };
  return { sync, counts };
}

/**
 * A log record as a dead store of the earlier version would have left it
 * (committed, files never written), with the whole index in the record: the
 * recovery tests below also check that such logs still replay (records of
 * this version, with index deltas: `disk-index.test.ts`).
 */
function record(session: string, seq: number, values: Record<string, StoredValue | null>): BatchRecord {
  const put = Object.entries(values).flatMap(([key, value]) =>
    value === null ? [] : [[`${key}.json`, encodeBufferJson(value)] as const],
  );
  const del = Object.entries(values).flatMap(([key, value]) => (value === null ? [`${key}.json`] : []));
  const versions = Object.fromEntries(
    Object.entries(values).flatMap(([key, value]) => (value === null ? [] : [[key, seq] as const])),
  );
  return { format: 1, session, put, del, meta: { format: 1, seq, versions, names: {} } };
}

async function writeDeadLog(name: string, ...frames: Buffer[]): Promise<void> {
  await mkdir(root(), { recursive: true, mode: 0o700 });
  await writeFile(join(root(), name), Buffer.concat(frames), { mode: 0o600 });
}

describe("DiskSessionStore write-ahead log: recovery", () => {
  it("replays a record committed to the log whose files were never written", async () => {
    await writeDeadLog(
      ".wal-dead-0000000001",
      frameRecord(encodeBatch(record("s", 1, { creds: { me: Buffer.from([1, 2]) }, "pre-key-1": 7 }))),
    );
    const store = open();
    expect(await store.getVersioned("s", ["creds", "pre-key-1"])).toEqual(
      new Map<string, unknown>([
        ["creds", { value: { me: Buffer.from([1, 2]) }, version: 1 }],
        ["pre-key-1", { value: 7, version: 1 }],
      ]),
    );
    expect((await store.sessionMeta("s")).seq).toBe(1);
    // Recovery made the files durable and removed the dead log.
    expect(await logFiles()).toEqual([]);
    expect((await stat(join(sessionDir("s"), "creds.json"))).mode & 0o777).toBe(0o600);
  });

  it("ignores a torn tail and keeps every record before it, replayed in order", async () => {
    const first = frameRecord(encodeBatch(record("s", 1, { a: "a1", b: "b1" })));
    const second = frameRecord(encodeBatch(record("s", 2, { a: "a2", b: null })));
    const torn = frameRecord(encodeBatch(record("s", 3, { a: "a3", c: "c3" })));
    await writeDeadLog(".wal-dead-0000000001", first, second, torn.subarray(0, torn.length - 5));
    const store = open();
    expect(await store.entries("s")).toEqual(new Map([["a", "a2"]]));
    expect((await store.sessionMeta("s")).seq).toBe(2);
  });

  it("stops at a record whose checksum does not match, even if a later one is intact", async () => {
    const first = frameRecord(encodeBatch(record("s", 1, { a: "a1" })));
    const flipped = frameRecord(encodeBatch(record("s", 2, { a: "a2" })));
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 3) ^ 0xff, flipped.length - 3);
    const later = frameRecord(encodeBatch(record("s", 3, { a: "a3" })));
    await writeDeadLog(".wal-dead-0000000001", first, flipped, later);
    expect(await open().entries("s")).toEqual(new Map([["a", "a1"]]));
  });

  it("replays a crash after the commit point over files of an earlier checkpoint", async () => {
    let armed = false;
    const store = open({ crashPoints: { afterCommit: () => (armed ? crash() : undefined) } });
    await store.setMany(
      "s",
      new Map([
        ["a", "a1"],
        ["b", "b1"],
      ]),
    );
    await store.checkpoint();
    await store.setMany(
      "s",
      new Map([
        ["b", "b2"],
        ["c", "c2"],
      ]),
    );
    // A power loss may leave files written since the checkpoint torn: the log still has them.
    await writeFile(join(sessionDir("s"), "c.json"), "");
    armed = true;
    await expect(
      store.setMany(
        "s",
        new Map([
          ["a", "a3"],
          ["d", "d3"],
        ]),
      ),
    ).rejects.toThrow("simulated crash");
    expect(store.health().status).toBe("degraded");

    const reopened = open();
    expect(await reopened.entries("s")).toEqual(
      new Map([
        ["a", "a3"],
        ["b", "b2"],
        ["c", "c2"],
        ["d", "d3"],
      ]),
    );
    expect((await reopened.sessionMeta("s")).seq).toBe(3);
    expect((await readdir(sessionDir("s"))).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
  });

  it("migrates a per-session .journal left by the earlier store, and removes it", async () => {
    const dir = sessionDir("s");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, "old.json"), JSON.stringify("old"), { mode: 0o600 });
    await writeFile(join(dir, ".tmp-b1-0"), JSON.stringify("new"), { mode: 0o600 });
    await writeFile(join(dir, ".tmp-b1-meta"), JSON.stringify({ format: 1, seq: 4, versions: { k: 4 }, names: {} }), {
      mode: 0o600,
    });
    await writeFile(
      join(dir, ".journal"),
      JSON.stringify({
        batch: "b1",
        renames: [
          [".tmp-b1-0", "k.json"],
          [".tmp-b1-meta", ".meta"],
        ],
        unlinks: ["old.json"],
      }),
    );
    const store = open();
    expect(await store.getVersioned("s", ["k", "old"])).toEqual(new Map([["k", { value: "new", version: 4 }]]));
    expect((await readdir(dir)).sort()).toEqual([".meta", "k.json"]);
    await store.setMany("s", new Map([["old", "again"]]));
    // One store owns a data dir: the next one opens after it closed.
    await store.close();
    expect(await open().entries("s")).toEqual(
      new Map([
        ["k", "new"],
        ["old", "again"],
      ]),
    );
  });
});

describe("DiskSessionStore write-ahead log: syncs", () => {
  it("costs one log fdatasync per setMany and nothing else until a checkpoint", async () => {
    const { sync, counts } = countingSync();
    const store = open({ sync });
    await store.setMany("s", new Map([["warm-up", 1]]));
    const before = { ...counts };
    for (let i = 0; i < 10; i++)
      await store.setMany("s", new Map([["session-1.0", { i, chain: Buffer.alloc(1500, i) }]]));
    expect({ log: counts.log - before.log, file: counts.file - before.file, dir: counts.dir - before.dir }).toEqual({
      log: 10,
      file: 0,
      dir: 0,
    });
    await store.checkpoint();
    expect(counts.file - before.file).toBeGreaterThan(0);
    expect(await logFiles()).toHaveLength(1);
    expect(await readFile(join(root(), (await logFiles())[0]!))).toHaveLength(0);
  });

  it("shares one fdatasync between setMany calls on several sessions that arrive during a commit", async () => {
    const { sync: realSync, counts } = countingSync();
    // A slow disk: calls keep arriving while a sync is in progress.
    const sync: SyncFn = async (handle, what) => {
      if (what === "log") await new Promise((resolve) => setTimeout(resolve, 15));
      await realSync(handle, what);
    };
    const store = open({ sync });
    const sessions = Array.from({ length: 8 }, (_, i) => `s${i}`);
    const rounds = 5;
    await Promise.all(
      sessions.map(async (session) => {
        for (let i = 0; i < rounds; i++) await store.setMany(session, new Map([["session-1.0", `${session}-${i}`]]));
      }),
    );
    const calls = sessions.length * rounds;
    expect(counts.log).toBeLessThanOrEqual(calls / 2);
    await store.close();
    const reopened = open();
    for (const session of sessions)
      expect(await reopened.getMany(session, ["session-1.0"])).toEqual(
        new Map([["session-1.0", `${session}-${rounds - 1}`]]),
      );
  });
});

describe("DiskSessionStore write-ahead log: Baileys folders", () => {
  it("a dropped-in Baileys folder keeps working through a crash and a replay", async () => {
    const folder = sessionDir("dropped");
    const { state, saveCreds } = await useMultiFileAuthState(folder);
    await saveCreds();
    await state.keys.set({ "pre-key": { "1": { public: Buffer.from([1]), private: Buffer.from([2]) } } });
    const crashing = open({ crashPoints: { afterCommit: crash } });
    const newSession = { _sessions: { x: { chain: Buffer.from([5, 6]) } } } as unknown as StoredValue;
    await expect(crashing.setMany("dropped", new Map([["session-9.0", newSession]]))).rejects.toThrow(
      "simulated crash",
    );
    const reopened = open();
    expect([...(await reopened.entries("dropped")).keys()].sort()).toEqual(["creds", "pre-key-1", "session-9.0"]);
    await reopened.close();
    const again = await useMultiFileAuthState(folder);
    expect(JSON.stringify(again.state.creds, BufferJSON.replacer)).toBe(
      JSON.stringify(state.creds, BufferJSON.replacer),
    );
    const sessionsRead = await again.state.keys.get("session", ["9.0"]);
    expect(JSON.stringify(sessionsRead["9.0"], BufferJSON.replacer)).toBe(
      JSON.stringify(newSession, BufferJSON.replacer),
    );
    expect((await stat(join(folder, "session-9.0.json"))).mode & 0o777).toBe(0o600);
  });
});
