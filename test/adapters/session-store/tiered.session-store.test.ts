import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BufferJSON, useMultiFileAuthState } from "@whiskeysockets/baileys";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { upgradeDiskSessions } from "../../../src/adapters/session-store/disk-to-sqlite-upgrade.ts";
import { SqliteSessionStore } from "../../../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import type { FirestoreSessionStore } from "../../../src/adapters/session-store/firestore/firestore.session-store.ts";
import { Outbox } from "../../../src/adapters/session-store/tiered/outbox.ts";
import type { FirestoreAuthStateMode } from "../../../src/domain/ports/session-store.port.ts";
import type { StoredValue } from "../../../src/domain/ports/session-store.port.ts";
import {
  firestoreEmulatorAvailable,
  startFirestoreEmulator,
  type FirestoreEmulator,
} from "../../support/firestore-emulator.ts";
import { makeTiered, openFirestore, type TieredFixture } from "./tiered-helpers.ts";

let dataDir: string;
let emulator: FirestoreEmulator | null = null;
let collectionCounter = 0;
let collection: string;
const opened: Array<{ close(): Promise<void> }> = [];

function tiered(mode: FirestoreAuthStateMode, dir = dataDir): TieredFixture {
  const fixture = makeTiered(mode, dir, emulator, collection);
  opened.push(fixture.store);
  return fixture;
}
function firestore(): FirestoreSessionStore {
  const store = openFirestore(emulator!, collection);
  opened.push(store);
  return store;
}
function localStore(dir: string): SqliteSessionStore {
  return new SqliteSessionStore({ path: join(dir, "sessions.db") });
}
/** The embedded store's files gone (a new disk): only Firestore and the outbox remain. */
async function loseLocalStore(): Promise<void> {
  for (const name of ["sessions.db", "sessions.db-wal", "sessions.db-shm"])
    await rm(join(dataDir, name), { force: true });
}
const creds = (n: number): StoredValue => ({
  noiseKey: { private: Buffer.alloc(32, n), public: Buffer.alloc(32, n + 1) },
  registrationId: n,
});

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "tiered-"));
  collectionCounter += 1;
  collection = `tiered_${process.pid}_${collectionCounter}`;
});
afterEach(async () => {
  for (const store of opened.splice(0).reverse()) await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe("TieredSessionStore, mode off", () => {
  it("never creates the Firestore store and reports the embedded store's health", async () => {
    const { store, remoteCreated } = tiered("off");
    await store.open();
    await store.setMany(
      "s",
      new Map<string, StoredValue>([
        ["creds", creds(1)],
        ["pre-key-1", Buffer.from([1])],
      ]),
    );
    expect((await store.getMany("s", ["creds"])).size).toBe(1);
    expect(await store.listSessions()).toEqual(["s"]);
    await store.clear("s");
    expect(store.health()).toEqual({ status: "ok" });
    expect(remoteCreated()).toBe(0);
    // Nothing but the embedded database: no outbox in mode off.
    expect((await readdir(dataDir)).filter((name) => !name.startsWith("sessions.db"))).toEqual([]);
  });
});

describe.skipIf(!firestoreEmulatorAvailable())("TieredSessionStore with Firestore (emulator)", () => {
  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
    // The emulator's first requests are slow (JIT): take them here, not in the
    // first test, whose store gives Firestore only 1.5 s per call.
    const warm = openFirestore(emulator, "warm-up");
    await warm.setMany("w", new Map<string, StoredValue>([["k", 1]]));
    await warm.getMany("w", ["k"]);
    await warm.close();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("creds_only sends the creds to Firestore and keeps the other keys on disk", async () => {
    const { store } = tiered("creds_only");
    await store.open();
    await store.setMany(
      "s",
      new Map<string, StoredValue>([
        ["creds", creds(1)],
        ["pre-key-1", Buffer.from([1])],
      ]),
    );
    await store.flush();
    expect([...(await firestore().entries("s")).keys()]).toEqual(["creds"]);
    expect([...(await store.entries("s")).keys()].sort()).toEqual(["creds", "pre-key-1"]);
  });

  it("full mode restores every key from Firestore on an empty disk (cold start)", async () => {
    const first = tiered("full");
    await first.store.open();
    const written = new Map<string, StoredValue>([
      ["creds", creds(7)],
      ["session-4072.0", Buffer.from([4, 0, 7, 2])],
      ["pre-key-9", { keyPair: { private: Buffer.from([9]) } }],
    ]);
    await first.store.setMany("s", written);
    await first.store.flush();
    await first.store.close();

    const emptyDisk = await mkdtemp(join(tmpdir(), "tiered-cold-"));
    try {
      const cold = tiered("full", emptyDisk);
      await cold.store.open();
      expect(await cold.store.listSessions()).toEqual(["s"]);
      expect(await cold.store.entries("s")).toEqual(written);
      // Restored onto the disk: it serves reads without Firestore from now on.
      await cold.store.close();
      const local = localStore(emptyDisk);
      expect(await local.entries("s")).toEqual(written);
      await local.close();
    } finally {
      await rm(emptyDisk, { recursive: true, force: true });
    }
  });

  it("backfills on off -> creds_only -> full with nothing lost, and the last step survives losing the disk", async () => {
    const off = tiered("off");
    await off.store.setMany(
      "s",
      new Map<string, StoredValue>([
        ["creds", creds(1)],
        ["pre-key-1", Buffer.from([1])],
        ["session-1.0", Buffer.from([2])],
      ]),
    );
    await off.store.close();

    const credsOnly = tiered("creds_only");
    await credsOnly.store.open();
    expect(await firestore().entries("s")).toEqual(new Map([["creds", creds(1)]]));
    await credsOnly.store.setMany(
      "s",
      new Map<string, StoredValue | null>([
        ["creds", creds(2)],
        ["pre-key-2", Buffer.from([3])],
        ["pre-key-1", null],
      ]),
    );
    await credsOnly.store.flush();
    expect(await firestore().entries("s")).toEqual(new Map([["creds", creds(2)]]));
    await credsOnly.store.close();

    const full = tiered("full");
    await full.store.open();
    const onDisk = await full.store.entries("s");
    expect([...onDisk.keys()].sort()).toEqual(["creds", "pre-key-2", "session-1.0"]);
    expect(await firestore().entries("s")).toEqual(onDisk);
    expect((await firestore().sessionMeta("s")).complete).toBe(true);
    await full.store.close();

    await loseLocalStore();
    const cold = tiered("full");
    await cold.store.open();
    expect(await cold.store.entries("s")).toEqual(onDisk);
  });

  it("backfills a folder dropped in from Baileys' useMultiFileAuthState, and restores it on an empty disk", async () => {
    const { state, saveCreds } = await useMultiFileAuthState(join(dataDir, "sessions", "dropped"));
    await saveCreds();
    await state.keys.set({ "pre-key": { "1": { public: Buffer.from([1]), private: Buffer.from([2]) } } });
    // At start the folder is upgraded into sessions.db with no version (seq 0), as the composition root does.
    const upgraded = localStore(dataDir);
    await upgradeDiskSessions(dataDir, upgraded);
    await upgraded.close();
    const full = tiered("full");
    await full.store.open();
    const onDisk = await full.store.entries("dropped");
    expect([...onDisk.keys()].sort()).toEqual(["creds", "pre-key-1"]);
    expect(await firestore().entries("dropped")).toEqual(onDisk);
    await full.store.close();
    await loseLocalStore();
    const cold = tiered("full");
    await cold.store.open();
    expect(JSON.stringify((await cold.store.getMany("dropped", ["creds"])).get("creds"), BufferJSON.replacer)).toBe(
      JSON.stringify(state.creds, BufferJSON.replacer),
    );
  });

  it("a delayed or replayed outbox batch never overwrites newer keys nor resurrects deleted ones", async () => {
    const first = tiered("full");
    await first.store.open();
    await first.store.setMany(
      "s",
      new Map<string, StoredValue>([
        ["k", "v1"],
        ["j", "j1"],
      ]),
    );
    await first.store.setMany("s", new Map<string, StoredValue>([["k", "v2"]]));
    await first.store.setMany("s", new Map<string, StoredValue | null>([["j", null]]));
    await first.store.flush();
    await first.store.close();
    // Copies of batches 1 and 2 show up again (a crash before their removal, a restored backup of the outbox).
    const outbox = new Outbox(join(dataDir, "session-outbox"));
    await outbox.append("s", {
      seq: 1,
      writes: [
        { key: "k", value: "stale", version: 1 },
        { key: "j", value: "j1", version: 1 },
      ],
      remoteKeys: ["k", "j"],
      clear: false,
      complete: null,
    });
    await outbox.append("s", {
      seq: 2,
      writes: [{ key: "k", value: "v2-stale", version: 2 }],
      remoteKeys: ["k"],
      clear: false,
      complete: null,
    });

    const second = tiered("full");
    await second.store.open();
    await second.store.flush();
    const expected = new Map<string, StoredValue>([["k", "v2"]]);
    expect(await firestore().entries("s")).toEqual(expected);
    expect(await second.store.entries("s")).toEqual(expected);
    expect(await readdir(join(dataDir, "session-outbox", "s"))).toEqual([]);
    expect(second.remote()?.applied).toEqual([]);
  });

  it("a stale backfill never overwrites a newer Firestore key", async () => {
    const disk = localStore(dataDir);
    await disk.applyVersioned(
      "s",
      [
        { key: "k", value: "disk-old", version: 4 },
        { key: "other", value: "disk", version: 12 },
      ],
      { seq: 12 },
    );
    await disk.close();
    await firestore().applyVersioned("s", [{ key: "k", value: "fs-new", version: 10 }], { seq: 10 });
    const { store } = tiered("full");
    await store.open();
    expect(await firestore().getVersioned("s", ["k", "other"])).toEqual(
      new Map([
        ["k", { value: "fs-new", version: 10 }],
        ["other", { value: "disk", version: 12 }],
      ]),
    );
  });

  it("a restore never overwrites a newer disk key", async () => {
    const disk = localStore(dataDir);
    await disk.applyVersioned(
      "s",
      [
        { key: "k", value: "disk-new", version: 9 },
        { key: "j", value: "disk-old", version: 2 },
        { key: "gone", value: "x", version: 3 },
      ],
      { seq: 9 },
    );
    await disk.close();
    await firestore().applyVersioned(
      "s",
      [
        { key: "k", value: "fs-old", version: 8 },
        { key: "j", value: "fs-new", version: 7 },
      ],
      { seq: 10, complete: true },
    );
    const { store } = tiered("full");
    await store.open();
    expect(await store.entries("s")).toEqual(
      new Map([
        ["k", "disk-new"],
        ["j", "fs-new"],
      ]),
    );
  });

  it("keeps writing through a Firestore outage, reports it, and sends the queued batches in order once it answers", async () => {
    const { store, remote, errors } = tiered("full");
    await store.open();
    await store.setMany("s", new Map<string, StoredValue>([["creds", creds(1)]]));
    await store.flush();
    await emulator!.stop();
    try {
      await store.setMany("s", new Map<string, StoredValue>([["k", 1]]));
      await store.setMany(
        "s",
        new Map<string, StoredValue>([
          ["k", 2],
          ["j", "x"],
        ]),
      );
      await store.setMany(
        "s",
        new Map<string, StoredValue | null>([
          ["k", 3],
          ["j", null],
          ["creds", creds(2)],
        ]),
      );
      await store.flush();
      expect(store.health().status).toBe("degraded");
      expect(store.health().detail).toMatch(/queued/);
      expect(store.remoteErrorCount).toBeGreaterThan(0);
      expect(errors.length).toBe(store.remoteErrorCount);
      expect(await store.entries("s")).toEqual(
        new Map<string, StoredValue>([
          ["creds", creds(2)],
          ["k", 3],
        ]),
      );
    } finally {
      await emulator!.start();
    }
    await vi.waitFor(() => expect(store.health()).toEqual({ status: "ok" }), { timeout: 20_000, interval: 100 });
    expect(remote()?.applied).toEqual([1, 2, 3, 4]);
    // The emulator came back empty; what it holds now came only from the queued batches, newest values.
    expect(await firestore().entries("s")).toEqual(
      new Map<string, StoredValue>([
        ["creds", creds(2)],
        ["k", 3],
      ]),
    );
  });

  it("loses nothing when the gateway restarts during an outage", async () => {
    const first = tiered("full");
    await first.store.open();
    await emulator!.stop();
    try {
      await first.store.setMany(
        "s",
        new Map<string, StoredValue>([
          ["creds", creds(1)],
          ["pre-key-1", Buffer.from([1])],
        ]),
      );
      await first.store.close();
      const second = tiered("full");
      await second.store.open();
      expect(second.store.health().status).toBe("degraded");
      await second.store.setMany("s", new Map<string, StoredValue>([["creds", creds(2)]]));
      await second.store.flush();
      expect((await readdir(join(dataDir, "session-outbox", "s"))).length).toBe(2);
      // A session that exists only in Firestore must not look empty while Firestore is unreachable.
      await expect(second.store.getMany("elsewhere", ["creds"])).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
      await emulator!.start();
      await vi.waitFor(() => expect(second.store.health()).toEqual({ status: "ok" }), {
        timeout: 20_000,
        interval: 100,
      });
      const expected = new Map<string, StoredValue>([
        ["creds", creds(2)],
        ["pre-key-1", Buffer.from([1])],
      ]);
      expect(await firestore().entries("s")).toEqual(expected);
      expect(await second.store.entries("s")).toEqual(expected);
      expect((await second.store.getMany("elsewhere", ["creds"])).size).toBe(0);
    } finally {
      if (!emulator!.running) await emulator!.start();
    }
  });
});
