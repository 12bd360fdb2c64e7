import { deleteApp, initializeApp, type App } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FirestoreSessionStore } from "../../../src/adapters/session-store/firestore/firestore.session-store.ts";
import { CorruptEntryError, type StoredValue } from "../../../src/domain/ports/session-store.port.ts";
import {
  firestoreEmulatorAvailable,
  startFirestoreEmulator,
  type FirestoreEmulator,
} from "../../support/firestore-emulator.ts";

describe.skipIf(!firestoreEmulatorAvailable())("FirestoreSessionStore (emulator)", () => {
  let emulator: FirestoreEmulator;
  let rawApp: App;
  let raw: Firestore;
  const stores: FirestoreSessionStore[] = [];
  const open = (options: Partial<ConstructorParameters<typeof FirestoreSessionStore>[0]> = {}) => {
    const store = new FirestoreSessionStore({ projectId: emulator.projectId, emulatorHost: emulator.host, ...options });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
    rawApp = initializeApp({ projectId: emulator.projectId }, `raw-${process.pid}`);
    raw = getFirestore(rawApp);
    raw.settings({ host: emulator.host, ssl: false });
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await emulator.reset();
  });
  afterAll(async () => {
    await raw?.terminate();
    if (rawApp !== undefined) await deleteApp(rawApp);
    await emulator?.stop();
  });

  it("lays out one document per key under the session, with ids escaped and the key kept", async () => {
    await open().setMany(
      "s1",
      new Map<string, StoredValue>([
        ["creds", 1],
        ["a/b", 2],
        ["..", 3],
        ["__x__", 4],
        ["%", 5],
      ]),
    );
    const ids = (await raw.collection("gatewaySessions/s1/keys").listDocuments()).map((ref) => ref.id).sort();
    expect(ids).toEqual(["%25", "%2E.", "%5F_x__", "a%2Fb", "creds"].sort());
    const doc = (await raw.doc("gatewaySessions/s1/keys/a%2Fb").get()).data();
    expect(doc).toMatchObject({ k: "a/b", v: 1, n: 1 });
    expect(doc?.["d"]).toBeInstanceOf(Uint8Array);
    expect((await raw.doc("gatewaySessions/s1").get()).data()).toMatchObject({ seq: 1 });
  });

  it("uses its own collection, and two instances coexist in one process", async () => {
    const a = open({ collection: "tenantA" });
    const b = open({ collection: "tenantB" });
    await a.setMany("s", new Map([["creds", "a"]]));
    await b.setMany("s", new Map([["creds", "b"]]));
    expect((await a.getMany("s", ["creds"])).get("creds")).toBe("a");
    expect((await b.getMany("s", ["creds"])).get("creds")).toBe("b");
  });

  it("splits a value over 1 MiB into parts and drops the parts when it shrinks", async () => {
    const store = open();
    const big = Buffer.alloc(2_500_000);
    for (let i = 0; i < big.length; i++) big[i] = i % 253;
    await store.setMany("s", new Map<string, StoredValue>([["app-state-sync-version-regular", { hash: big }]]));
    const got = (await store.getMany("s", ["app-state-sync-version-regular"])).get(
      "app-state-sync-version-regular",
    ) as Record<string, StoredValue>;
    expect(Buffer.from(got["hash"] as Uint8Array).equals(big)).toBe(true);
    const partsPath = "gatewaySessions/s/keys/app-state-sync-version-regular/parts";
    expect((await raw.collection(partsPath).listDocuments()).length).toBe(2);
    await store.setMany("s", new Map<string, StoredValue>([["app-state-sync-version-regular", "small"]]));
    expect((await raw.collection(partsPath).get()).size).toBe(0);
    expect((await store.getMany("s", ["app-state-sync-version-regular"])).get("app-state-sync-version-regular")).toBe(
      "small",
    );
  });

  it("finishes a staged batch (more than one commit) that crashed after its commit point, all of it", async () => {
    await open().setMany(
      "s",
      new Map<string, StoredValue>([
        ["old", 1],
        ["pre-key-0", "old"],
      ]),
    );
    const keys = Array.from({ length: 700 }, (_, i) => `pre-key-${i}`);
    const crashing = open({
      crashPoints: {
        afterStagedCommit: () => {
          throw new Error("simulated crash");
        },
      },
    });
    await expect(
      crashing.setMany(
        "s",
        new Map<string, StoredValue | null>([["old", null], ...keys.map((k): [string, StoredValue] => [k, k])]),
      ),
    ).rejects.toThrow("simulated crash");
    expect((await raw.doc("gatewaySessions/s/keys/pre-key-699").get()).exists).toBe(false);
    const reader = open();
    const all = await reader.entries("s");
    expect(all.size).toBe(700);
    expect(all.get("pre-key-0")).toBe("pre-key-0");
    expect(all.has("old")).toBe(false);
    expect((await raw.collection("gatewaySessions/s/staging").get()).size).toBe(0);
    expect((await reader.sessionMeta("s")).seq).toBe(2);
  });

  it("reads a committed staged batch from staging while a dead instance's transaction still locks its documents", async () => {
    await open().setMany(
      "s",
      new Map<string, StoredValue>([
        ["old", 1],
        ["pre-key-0", "old"],
      ]),
    );
    const keys = Array.from({ length: 700 }, (_, i) => `pre-key-${i}`);
    const crashing = open({
      crashPoints: {
        afterStagedCommit: () => {
          throw new Error("simulated crash");
        },
      },
    });
    await expect(
      crashing.setMany(
        "s",
        new Map<string, StoredValue | null>([["old", null], ...keys.map((k): [string, StoredValue] => [k, k])]),
      ),
    ).rejects.toThrow("simulated crash");
    // The dead instance was rolling forward: its transaction read the key documents, then it died.
    let release!: () => void;
    const hung = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    const abandoned = raw.runTransaction(
      async (tx) => {
        await tx.getAll(raw.doc("gatewaySessions/s/keys/old"), raw.doc("gatewaySessions/s/keys/pre-key-0"));
        locked();
        await hung;
      },
      { maxAttempts: 1 },
    );
    await holding;
    try {
      const reader = open();
      const all = await reader.entries("s");
      expect(all.size).toBe(700);
      expect(all.get("pre-key-0")).toBe("pre-key-0");
      expect(all.get("pre-key-699")).toBe("pre-key-699");
      expect(all.has("old")).toBe(false);
      expect(await reader.getVersioned("s", ["pre-key-0", "old"])).toEqual(
        new Map([["pre-key-0", { value: "pre-key-0", version: 2 }]]),
      );
      expect((await reader.sessionMeta("s")).seq).toBe(2);
      // Not rolled forward yet: the key documents are still locked.
      expect((await raw.doc("gatewaySessions/s/keys/pre-key-0").get()).get("v")).toBe(1);
    } finally {
      release();
      await abandoned;
    }
    // Once the locks are gone, a write finishes the roll-forward first.
    const writer = open();
    await writer.setMany("s", new Map<string, StoredValue>([["creds", "c"]]));
    expect((await raw.doc("gatewaySessions/s/keys/pre-key-0").get()).get("v")).toBe(2);
    expect((await raw.collection("gatewaySessions/s/staging").get()).size).toBe(0);
    expect((await writer.sessionMeta("s")).seq).toBe(3);
  });

  it("writes a key only over an older version, and skips an ordered batch it already passed", async () => {
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
    await store.applyVersioned("s", [{ key: "j", value: null, version: 6 }], { seq: 6, onlyIfNewer: true });
    // A delayed copy of batch 4 would resurrect the deleted key: it is skipped whole.
    expect(
      await store.applyVersioned("s", [{ key: "j", value: "j4", version: 4 }], { seq: 4, onlyIfNewer: true }),
    ).toBe(false);
    expect((await store.getMany("s", ["j"])).size).toBe(0);
    expect(await store.sessionMeta("s")).toEqual({ seq: 6, complete: false });
    await store.applyVersioned("s", [], { seq: 6, complete: true });
    expect((await store.sessionMeta("s")).complete).toBe(true);
  });

  it("reports an undecodable document as CorruptEntryError", async () => {
    const store = open();
    await store.setMany("s", new Map([["creds", "fine"]]));
    await raw.doc("gatewaySessions/s/keys/creds").update({ d: Buffer.from("garbage") });
    const error = await store.getMany("s", ["creds"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptEntryError);
    expect(error).toMatchObject({ session: "s", key: "creds", location: "gatewaySessions/s/keys/creds" });
    await expect(store.entries("s")).rejects.toBeInstanceOf(CorruptEntryError);
  });
});
