import { initAuthCreds, makeCacheableSignalKeyStore, proto } from "@whiskeysockets/baileys";
import type { SignalDataSet, SignalDataTypeMap } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import {
  CorruptEntryError,
  type SessionStore,
  type StoredValue,
} from "../../../src/domain/ports/session-store.port.ts";
import { loadAuthState } from "../../../src/adapters/messaging/baileys/auth-state.ts";
import { SessionWrites } from "../../../src/adapters/messaging/baileys/session-writes.ts";
import { damageStoredValue, sessionStore, silentLogger } from "./harness.ts";

const SESSION = "main";

/** A real store that records every setMany it passes on, and can be told to fail. */
class RecordingStore implements SessionStore {
  readonly setManyCalls: Array<Map<string, StoredValue | null>> = [];
  failNextWrites = 0;
  /** Hand back binary leaves as plain Uint8Arrays, as a store is allowed to. */
  plainBytes = false;
  constructor(private readonly inner: SessionStore) {}
  get kind(): string {
    return this.inner.kind;
  }
  async getMany(session: string, keys: readonly string[]): Promise<Map<string, StoredValue>> {
    const found = await this.inner.getMany(session, keys);
    if (!this.plainBytes) return found;
    return new Map([...found].map(([key, value]) => [key, toPlainBytes(value)]));
  }
  async setMany(session: string, entries: ReadonlyMap<string, StoredValue | null>): Promise<void> {
    this.setManyCalls.push(new Map(entries));
    if (this.failNextWrites > 0) {
      this.failNextWrites--;
      throw new Error("disk full");
    }
    return this.inner.setMany(session, entries);
  }
  entries(session: string): Promise<Map<string, StoredValue>> {
    return this.inner.entries(session);
  }
  clear(session: string): Promise<void> {
    return this.inner.clear(session);
  }
  listSessions(): Promise<string[]> {
    return this.inner.listSessions();
  }
  health(): ReturnType<SessionStore["health"]> {
    return this.inner.health();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function toPlainBytes(value: StoredValue): StoredValue {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map((item: StoredValue) => toPlainBytes(item));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlainBytes(v as StoredValue)]));
  }
  return value;
}

async function setup(): Promise<{
  store: RecordingStore;
  path: string;
  writes: SessionWrites;
}> {
  const { store: inner, path } = await sessionStore();
  const store = new RecordingStore(inner);
  return { store, path, writes: new SessionWrites(store, SESSION, silentLogger) };
}

const bytes = (...values: number[]): Buffer => Buffer.from(values);

/** One value of every Signal key type Baileys rc14 stores. */
function everyKeyType(): SignalDataSet {
  return {
    "pre-key": { "1": { public: bytes(1, 2), private: bytes(3, 4) } },
    session: { "15550001111.0": bytes(5, 6, 7) },
    "sender-key": { "120363@g.us::15550001111::0": bytes(8) },
    "sender-key-memory": { "120363@g.us": { "15550001111:0@s.whatsapp.net": true } },
    "app-state-sync-key": {
      AAAAAQ: proto.Message.AppStateSyncKeyData.fromObject({ keyData: bytes(9, 9), timestamp: 1_700_000_000 }),
    },
    "app-state-sync-version": {
      regular: { version: 3, hash: bytes(10), indexValueMap: { abc: { valueMac: bytes(11) } } },
    },
    "lid-mapping": { "15550001111": "123456789012345", "123456789012345_reverse": "15550001111" },
    "device-list": { "15550001111": ["0", "1"] },
    tctoken: { "123456789012345@lid": { token: bytes(12), timestamp: "1700000000" } },
    "identity-key": { "123456789012345.0": bytes(13, 14) },
  };
}

describe("auth-state bridge", () => {
  it("starts a new login with fresh creds when the store has none, writing nothing yet", async () => {
    const { store, writes } = await setup();

    const auth = await loadAuthState(store, writes, silentLogger);

    expect(auth.isNew).toBe(true);
    expect(auth.creds.me).toBeUndefined();
    expect(Buffer.isBuffer(auth.creds.noiseKey.private)).toBe(true);
    expect(store.setManyCalls).toEqual([]);
  });

  it("writes one keys.set with every key type as ONE setMany, named <type>-<id>, and reads each back", async () => {
    const { store, writes } = await setup();
    store.plainBytes = true;
    const auth = await loadAuthState(store, writes, silentLogger);
    const data = everyKeyType();

    await auth.keys.set(data);

    expect(store.setManyCalls).toHaveLength(1);
    expect([...store.setManyCalls[0]!.keys()].sort()).toEqual(
      [
        "pre-key-1",
        "session-15550001111.0",
        "sender-key-120363@g.us::15550001111::0",
        "sender-key-memory-120363@g.us",
        "app-state-sync-key-AAAAAQ",
        "app-state-sync-version-regular",
        "lid-mapping-15550001111",
        "lid-mapping-123456789012345_reverse",
        "device-list-15550001111",
        "tctoken-123456789012345@lid",
        "identity-key-123456789012345.0",
      ].sort(),
    );
    const reloaded = await loadAuthState(store, writes, silentLogger);
    for (const [type, values] of Object.entries(data)) {
      const ids = Object.keys(values!);
      const read = await reloaded.keys.get(type as keyof SignalDataTypeMap, ids);
      expect(Object.keys(read).sort(), type).toEqual(ids.sort());
    }
    const preKey = (await reloaded.keys.get("pre-key", ["1"]))["1"]!;
    expect(Buffer.isBuffer(preKey.private)).toBe(true);
    expect(Buffer.from(preKey.private).toString("base64")).toBe(bytes(3, 4).toString("base64"));
    const version = (await reloaded.keys.get("app-state-sync-version", ["regular"]))["regular"]!;
    expect(Buffer.isBuffer(version.hash)).toBe(true);
    expect(version.indexValueMap["abc"]!.valueMac).toEqual(bytes(11));
    expect(await reloaded.keys.get("device-list", ["15550001111"])).toEqual({ "15550001111": ["0", "1"] });
  });

  it("revives app-state-sync-key values as protobuf objects with Buffer key data", async () => {
    const { store, writes } = await setup();
    const auth = await loadAuthState(store, writes, silentLogger);
    await auth.keys.set({ "app-state-sync-key": everyKeyType()["app-state-sync-key"]! });

    const { AAAAAQ: key } = await (
      await loadAuthState(store, writes, silentLogger)
    ).keys.get("app-state-sync-key", ["AAAAAQ", "missing"]);

    expect(key).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
    expect(Buffer.isBuffer(key!.keyData)).toBe(true);
    expect(key!.keyData).toEqual(bytes(9, 9));
  });

  it("deletes keys set to null or undefined, in the same single call as the writes", async () => {
    const { store, writes } = await setup();
    const auth = await loadAuthState(store, writes, silentLogger);
    await auth.keys.set({
      "pre-key": { "1": { public: bytes(1), private: bytes(2) }, "2": { public: bytes(3), private: bytes(4) } },
    });

    await auth.keys.set({
      "pre-key": { "1": null, "3": { public: bytes(5), private: bytes(6) } },
      session: { x: undefined as never },
    });

    expect(store.setManyCalls).toHaveLength(2);
    expect(store.setManyCalls[1]).toEqual(
      new Map<string, StoredValue | null>([
        ["pre-key-1", null],
        ["pre-key-3", { public: bytes(5), private: bytes(6) }],
        ["session-x", null],
      ]),
    );
    expect(Object.keys(await auth.keys.get("pre-key", ["1", "2", "3"])).sort()).toEqual(["2", "3"]);
  });

  it("keeps one setMany per keys.set behind Baileys' cacheable key store", async () => {
    const { store, writes } = await setup();
    const auth = await loadAuthState(store, writes, silentLogger);
    const cached = makeCacheableSignalKeyStore(auth.keys, silentLogger);

    await cached.set(everyKeyType());
    await cached.set({ "pre-key": { "1": null } });

    expect(store.setManyCalls).toHaveLength(2);
    expect(await auth.keys.get("pre-key", ["1"])).toEqual({});
  });

  it.each([false, true])(
    "round-trips the creds through the disk store with real Buffers (store returns plain Uint8Arrays: %s)",
    async (plainBytes) => {
      const { store, writes } = await setup();
      store.plainBytes = plainBytes;
      const auth = await loadAuthState(store, writes, silentLogger);
      const original = auth.creds.noiseKey.private;
      Object.assign(auth.creds, {
        me: { id: "15550001111:3@s.whatsapp.net" },
        account: { details: bytes(1, 2, 3) },
        routingInfo: bytes(7),
      });

      auth.saveCreds();
      await writes.flush();
      const reloaded = await loadAuthState(store, writes, silentLogger);

      expect(reloaded.isNew).toBe(false);
      expect(Buffer.isBuffer(reloaded.creds.noiseKey.private)).toBe(true);
      expect(Buffer.isBuffer(reloaded.creds.signedPreKey.keyPair.public)).toBe(true);
      expect(Buffer.isBuffer(reloaded.creds.routingInfo)).toBe(true);
      expect((reloaded.creds.noiseKey.private as Buffer).toString("base64")).toBe(
        Buffer.from(original).toString("base64"),
      );
      expect(reloaded.creds.me?.id).toBe("15550001111:3@s.whatsapp.net");
      expect(reloaded.creds.registrationId).toBe(auth.creds.registrationId);
    },
  );

  it("coalesces a burst of creds updates into one write of the latest state", async () => {
    const { store, writes } = await setup();
    const auth = await loadAuthState(store, writes, silentLogger);

    for (const n of [1, 2, 3]) {
      auth.creds.nextPreKeyId = n;
      auth.saveCreds();
    }
    await writes.flush();

    expect(store.setManyCalls).toHaveLength(1);
    expect((await loadAuthState(store, writes, silentLogger)).creds.nextPreKeyId).toBe(3);
  });

  it("retries a failed creds write on flush, and flush fails while the store does", async () => {
    const { store, writes } = await setup();
    const auth = await loadAuthState(store, writes, silentLogger);
    store.failNextWrites = 2;

    auth.saveCreds();
    await expect(writes.flush()).rejects.toThrow("disk full");
    await writes.flush();

    expect((await store.getMany(SESSION, ["creds"])).has("creds")).toBe(true);
  });

  it("retries a failed creds write by itself while the socket stays up (a full disk delays the save, nothing more)", async () => {
    const { store, writes } = await setup();
    const auth = await loadAuthState(store, writes, silentLogger);
    store.failNextWrites = 1;

    auth.saveCreds();
    const deadline = Date.now() + 10_000;
    while (!(await store.getMany(SESSION, ["creds"])).has("creds") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await store.getMany(SESSION, ["creds"])).has("creds")).toBe(true);
    expect(store.setManyCalls.length).toBeGreaterThanOrEqual(2);
  });

  it("drops every write after seal (logged out, about to be wiped)", async () => {
    const { store, writes } = await setup();
    const auth = await loadAuthState(store, writes, silentLogger);

    auth.seal();
    auth.saveCreds();
    await auth.keys.set({ session: { a: bytes(1) } });
    await writes.flush();

    expect(store.setManyCalls).toEqual([]);
  });

  it("restarts the registration of creds a pairing-code request left half-made", async () => {
    const { store, writes } = await setup();
    const creds = { ...initAuthCreds(), me: { id: "15550001111@s.whatsapp.net", name: "~" }, pairingCode: "ABCDEFGH" };
    await store.setMany(SESSION, new Map([["creds", creds as unknown as StoredValue]]));

    const auth = await loadAuthState(store, writes, silentLogger);

    expect(auth.creds.me).toBeUndefined();
    expect(auth.creds.registrationId).toBe(creds.registrationId);
  });

  it("rejects with CorruptEntryError on an unreadable creds file and never replaces it", async () => {
    const { store, writes, path } = await setup();
    const auth = await loadAuthState(store, writes, silentLogger);
    auth.saveCreds();
    await writes.flush();
    const calls = store.setManyCalls.length;
    damageStoredValue(path, SESSION, "creds", '{"noiseKey": {"private": {"type": "Buf');

    await expect(loadAuthState(store, writes, silentLogger)).rejects.toBeInstanceOf(CorruptEntryError);
    await expect(loadAuthState(store, writes, silentLogger)).rejects.toMatchObject({ key: "creds" });
    expect(store.setManyCalls).toHaveLength(calls);
  });

  it("rejects with CorruptEntryError when the creds entry is not a creds object", async () => {
    const { store, writes } = await setup();
    await store.setMany(SESSION, new Map<string, StoredValue>([["creds", { hello: "world" }]]));

    await expect(loadAuthState(store, writes, silentLogger)).rejects.toBeInstanceOf(CorruptEntryError);
  });
});
