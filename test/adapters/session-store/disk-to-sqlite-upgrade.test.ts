import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BufferJSON, useMultiFileAuthState } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { DiskSessionStore } from "../../../src/adapters/session-store/disk/disk.session-store.ts";
import { upgradeDiskSessions } from "../../../src/adapters/session-store/disk-to-sqlite-upgrade.ts";
import { CorruptEntryError, type StoredValue } from "../../../src/domain/ports/session-store.port.ts";
import { sqliteStoreHarness } from "./sqlite-store-harness.ts";

const h = sqliteStoreHarness("upgrade-");
const canonical = (value: unknown) => JSON.stringify(value, BufferJSON.replacer);
const crash = (): never => {
  throw new Error("simulated crash");
};

/** A data dir as today's gateway leaves it: sessions written by the disk store, one batch still only in its log. */
async function writeWithDiskStore(dataDir: string): Promise<void> {
  const disk = new DiskSessionStore({ dataDir });
  await disk.setMany(
    "alpha",
    new Map<string, StoredValue>([
      ["creds", { me: "a", noiseKey: Buffer.alloc(32, 1) }],
      ["pre-key-1", Buffer.from([1])],
      ["app-state-sync-key-AB/CD+E=", { keyData: Buffer.from([9]) }],
      ["sender-key-1203@g.us::4072::0", Buffer.from([7])],
    ]),
  );
  await disk.setMany("alpha", new Map<string, StoredValue | null>([["pre-key-1", null]]));
  await disk.setMany("beta", new Map<string, StoredValue>([["creds", { me: "b" }]]));
  await disk.close();
  // The last batch reached the log, not the files: the upgrade must replay it.
  const crashed = new DiskSessionStore({ dataDir, crashPoints: { afterCommit: crash } });
  await expect(crashed.setMany("beta", new Map([["session-1.0", Buffer.from([5])]]))).rejects.toThrow("simulated");
}

describe("upgrade from the disk store to sessions.db", () => {
  it("copies every session with its versions, verifies, and moves the old folder aside", async () => {
    await writeWithDiskStore(h.dataDir);
    const store = h.open();
    const report = await upgradeDiskSessions(h.dataDir, store);
    expect(report).toMatchObject({ sessions: 2, keys: 5, alreadyThere: [], corrupt: [] });
    expect(await store.listSessions()).toEqual(["alpha", "beta"]);
    expect(await store.getVersioned("alpha", ["creds", "app-state-sync-key-AB/CD+E=", "pre-key-1"])).toEqual(
      new Map([
        ["creds", { value: { me: "a", noiseKey: Buffer.alloc(32, 1) }, version: 1 }],
        ["app-state-sync-key-AB/CD+E=", { value: { keyData: Buffer.from([9]) }, version: 1 }],
      ]),
    );
    expect((await store.getMany("alpha", ["sender-key-1203@g.us::4072::0"])).size).toBe(1);
    expect(await store.sessionMeta("alpha")).toEqual({ seq: 2, complete: true });
    expect(await store.entries("beta")).toEqual(
      new Map<string, StoredValue>([
        ["creds", { me: "b" }],
        ["session-1.0", Buffer.from([5])],
      ]),
    );
    // Moved, not deleted; nothing left at the old place, so the next start does nothing.
    const names = await readdir(h.dataDir);
    expect(names).not.toContain("sessions");
    expect(report!.movedTo.startsWith(join(h.dataDir, "sessions.migrated-"))).toBe(true);
    expect((await readdir(report!.movedTo)).sort()).toEqual(["alpha", "beta"]);
    expect(await upgradeDiskSessions(h.dataDir, store)).toBeNull();
  });

  it("adopts a folder Baileys' useMultiFileAuthState wrote, under Baileys' key names", async () => {
    const { state, saveCreds } = await useMultiFileAuthState(join(h.dataDir, "sessions", "dropped"));
    await saveCreds();
    await state.keys.set({
      "app-state-sync-key": { "AB/CD+E=": { keyData: Buffer.from([9, 9]) } as never },
      "sender-key": { "1203@g.us::4072::0": Buffer.from([7]) },
    });
    const store = h.open();
    await upgradeDiskSessions(h.dataDir, store);
    const all = await store.entries("dropped");
    expect([...all.keys()].sort()).toEqual(["app-state-sync-key-AB/CD+E=", "creds", "sender-key-1203@g.us::4072::0"]);
    expect(canonical(all.get("creds"))).toBe(canonical(state.creds));
  });

  it("marks a session whose old copy is corrupt as corrupt, never as empty", async () => {
    await writeWithDiskStore(h.dataDir);
    await writeFile(join(h.dataDir, "sessions", "beta", "creds.json"), '{"me": ');
    const store = h.open();
    const report = await upgradeDiskSessions(h.dataDir, store);
    expect(report).toMatchObject({ sessions: 1, corrupt: ["beta"] });
    const error = await store.getMany("beta", ["creds"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptEntryError);
    // The bad copy is where the error says, in the moved folder.
    expect(await readFile((error as CorruptEntryError).location, "utf8")).toBe('{"me": ');
    expect(await store.listSessions()).toEqual(["alpha", "beta"]);
  });

  it("after a crash between the copy and the move, a second run copies nothing twice and keeps what the database has", async () => {
    await writeWithDiskStore(h.dataDir);
    const store = h.open();
    // The copy of alpha landed before the crash; beta moved on since (written by the new store).
    const disk = new DiskSessionStore({ dataDir: h.dataDir });
    await store.applyVersioned(
      "alpha",
      [...(await disk.entriesVersioned("alpha"))].map(([key, v]) => ({ key, ...v })),
      {
        seq: 2,
      },
    );
    await disk.close();
    await store.setMany("beta", new Map([["creds", "newer"]]));
    const report = await upgradeDiskSessions(h.dataDir, store);
    expect(report).toMatchObject({ sessions: 0, alreadyThere: ["beta"] });
    expect((await store.getMany("beta", ["creds"])).get("creds")).toBe("newer");
    expect((await store.entries("alpha")).size).toBe(3);
  });
});
