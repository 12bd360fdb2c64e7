import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BufferJSON, initAuthCreds, useMultiFileAuthState } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { CorruptEntryError, type StoredValue } from "../../../src/domain/ports/session-store.port.ts";
import { diskStoreHarness } from "./disk-store-harness.ts";

const disk = diskStoreHarness("disk-store-");
const { open, sessionDir } = disk;
const canonical = (value: unknown) => JSON.stringify(value, BufferJSON.replacer);
/** Writes with a store that then stops cleanly: one instance owns a data dir at a time, the next one opens after it. */
async function written(session: string, entries: ReadonlyMap<string, StoredValue | null>): Promise<void> {
  const store = open();
  await store.setMany(session, entries);
  await store.close();
}

describe("DiskSessionStore files", () => {
  it("keeps directories 0700 and files 0600, one file per key named like Baileys", async () => {
    const store = open();
    await store.setMany(
      "s1",
      new Map<string, StoredValue>([
        ["creds", { a: Buffer.from([1]) }],
        ["pre-key-1", Buffer.from([2])],
      ]),
    );
    // Key files are written at checkpoints.
    await store.checkpoint();
    expect((await stat(join(disk.dataDir, "sessions"))).mode & 0o777).toBe(0o700);
    expect((await stat(sessionDir("s1"))).mode & 0o777).toBe(0o700);
    const names = (await readdir(sessionDir("s1"))).filter((n) => n.endsWith(".json")).sort();
    expect(names).toEqual(["creds.json", "pre-key-1.json"]);
    for (const name of await readdir(sessionDir("s1"))) {
      expect({ name, mode: (await stat(join(sessionDir("s1"), name))).mode & 0o777 }).toEqual({ name, mode: 0o600 });
    }
    expect(JSON.parse(await readFile(join(sessionDir("s1"), "creds.json"), "utf8"))).toEqual({
      a: { type: "Buffer", data: "AQ==" },
    });
  });

  it("reads a folder written by Baileys' useMultiFileAuthState, bytes equal", async () => {
    const folder = sessionDir("dropped");
    const { state, saveCreds } = await useMultiFileAuthState(folder);
    await saveCreds();
    const preKey = { public: Buffer.from("pub-key-bytes"), private: Buffer.from("priv-key-bytes") };
    await state.keys.set({
      "pre-key": { "12": preKey },
      session: { "4072.0": Buffer.from([1, 2, 3]) },
      "app-state-sync-key": { "AB/CD+E=": { keyData: Buffer.from([9, 9]), timestamp: 5 } as never },
      "sender-key": { "1203@g.us::4072::0": Buffer.from([7]) },
    });
    const store = open();
    const keys = [
      "creds",
      "pre-key-12",
      "session-4072.0",
      "app-state-sync-key-AB/CD+E=",
      "sender-key-1203@g.us::4072::0",
    ];
    const got = await store.getMany("dropped", keys);
    expect([...got.keys()].sort()).toEqual([...keys].sort());
    expect(canonical(got.get("creds"))).toBe(canonical(state.creds));
    expect(canonical(got.get("pre-key-12"))).toBe(canonical(preKey));
    expect(Buffer.from(got.get("session-4072.0") as Uint8Array)).toEqual(Buffer.from([1, 2, 3]));
    expect(canonical(got.get("app-state-sync-key-AB/CD+E="))).toBe(
      canonical({ keyData: Buffer.from([9, 9]), timestamp: 5 }),
    );
    expect(await store.listSessions()).toEqual(["dropped"]);

    // Rewriting a key through the store replaces Baileys' file: no stale twin is left to resurrect later.
    await store.setMany("dropped", new Map<string, StoredValue | null>([["app-state-sync-key-AB/CD+E=", null]]));
    await store.checkpoint();
    expect(await readdir(folder)).not.toContain("app-state-sync-key-AB__CD+E=.json");
    expect((await store.getMany("dropped", ["app-state-sync-key-AB/CD+E="])).size).toBe(0);
  });

  it("writes files Baileys' useMultiFileAuthState reads back", async () => {
    const creds = initAuthCreds();
    const store = open();
    await store.setMany(
      "ours",
      new Map<string, StoredValue>([
        ["creds", creds as unknown as StoredValue],
        ["pre-key-3", { public: Buffer.from([3]), private: Buffer.from([4]) }],
      ]),
    );
    await store.close();
    const { state } = await useMultiFileAuthState(sessionDir("ours"));
    expect(canonical(state.creds)).toBe(canonical(creds));
    const preKeys = await state.keys.get("pre-key", ["3"]);
    expect(canonical(preKeys["3"])).toBe(canonical({ public: Buffer.from([3]), private: Buffer.from([4]) }));
  });

  it("reverses every key it writes from the file names alone, after a restart", async () => {
    const keys = ["a/b", "a:b", "%", "ü", "x".repeat(400), ".."];
    await written("s", new Map(keys.map((k, i) => [k, i])));
    const reopened = open();
    expect([...(await reopened.entries("s")).keys()].sort()).toEqual([...keys].sort());
  });
});

describe("DiskSessionStore corruption", () => {
  it("reports a truncated creds file as CorruptEntryError, keeps it aside, and never as absent", async () => {
    await written(
      "s",
      new Map<string, StoredValue>([
        ["creds", { noiseKey: Buffer.alloc(32, 1) }],
        ["pre-key-1", 1],
      ]),
    );
    const credsPath = join(sessionDir("s"), "creds.json");
    const text = await readFile(credsPath, "utf8");
    await writeFile(credsPath, text.slice(0, 20));
    const fresh = open();
    const error = await fresh.getMany("s", ["creds"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptEntryError);
    expect(error).toMatchObject({ session: "s", key: "creds", code: "SESSION_STORE.CORRUPT_ENTRY" });
    const aside = (error as CorruptEntryError).location;
    expect(await readFile(aside, "utf8")).toBe(text.slice(0, 20));
    expect(await readdir(sessionDir("s"))).not.toContain("creds.json");
    await expect(fresh.getMany("s", ["creds"])).rejects.toBeInstanceOf(CorruptEntryError);
    await expect(fresh.entries("s")).rejects.toBeInstanceOf(CorruptEntryError);
    expect((await fresh.getMany("s", ["pre-key-1"])).get("pre-key-1")).toBe(1);
    await fresh.close();
    // After a restart the moved-aside creds are still reported, not taken for a fresh login.
    const restarted = open();
    await expect(restarted.getMany("s", ["creds"])).rejects.toBeInstanceOf(CorruptEntryError);
    expect(await restarted.listSessions()).toEqual(["s"]);
    // Writing the key again (an operator restoring it) clears the condition.
    await restarted.setMany("s", new Map([["creds", "restored"]]));
    expect((await restarted.getMany("s", ["creds"])).get("creds")).toBe("restored");
  });

  it("reports an empty file in a Baileys folder as corrupt too", async () => {
    await written("s", new Map([["x", 1]]));
    await writeFile(join(sessionDir("s"), "session-1.0.json"), "");
    const first = open();
    await expect(first.getMany("s", ["session-1.0"])).rejects.toBeInstanceOf(CorruptEntryError);
    await first.close();
    await expect(open().getMany("s", ["session-1.0"])).rejects.toBeInstanceOf(CorruptEntryError);
  });
});

describe("DiskSessionStore crash atomicity", () => {
  const before = new Map<string, StoredValue>([
    ["a", "old-a"],
    ["b", "old-b"],
    ["c", "old-c"],
  ]);
  const batch = new Map<string, StoredValue | null>([
    ["a", "new-a"],
    ["b", null],
    ["d", "new-d"],
  ]);
  const crash = () => {
    throw new Error("simulated crash");
  };

  it("a crash after the journal commit is replayed on open: all of the batch", async () => {
    await written("s", before);
    await expect(open({ crashPoints: { afterCommit: crash } }).setMany("s", batch)).rejects.toThrow("simulated crash");
    const reopened = open();
    expect(await reopened.entries("s")).toEqual(
      new Map([
        ["a", "new-a"],
        ["c", "old-c"],
        ["d", "new-d"],
      ]),
    );
    expect((await readdir(sessionDir("s"))).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
    expect((await reopened.sessionMeta("s")).seq).toBe(2);
  });

  it("a crash before the journal commit leaves none of the batch", async () => {
    await written("s", before);
    await expect(open({ crashPoints: { beforeCommit: crash } }).setMany("s", batch)).rejects.toThrow("simulated crash");
    const reopened = open();
    expect(await reopened.entries("s")).toEqual(before);
    expect((await readdir(sessionDir("s"))).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
    expect((await reopened.sessionMeta("s")).seq).toBe(1);
  });
});

describe("DiskSessionStore versions", () => {
  it("applies a versioned write only over an older version, and skips replayed ordered batches", async () => {
    const store = open();
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
    await store.setMany("s", new Map([["k", "next"]]));
    expect((await store.getVersioned("s", ["k"])).get("k")).toEqual({ value: "next", version: 6 });
  });
});
