import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionStore, StoredValue } from "../../src/domain/ports/session-store.port.ts";

export interface ContractSubject {
  readonly store: SessionStore;
  /** Closes the store and removes what the test created. */
  dispose(): Promise<void>;
}

let sessionCounter = 0;
/** A fresh session id per test, so tests on one shared store never see each other's data. */
function freshSession(): string {
  sessionCounter += 1;
  return `c${process.pid}-${Date.now().toString(36)}-${sessionCounter}`;
}

function bytes(...values: number[]): Buffer {
  return Buffer.from(values);
}

function expectBinaryEqual(actual: StoredValue | undefined, expected: Uint8Array): void {
  expect(actual).toBeInstanceOf(Uint8Array);
  expect(Buffer.from(actual as Uint8Array).equals(Buffer.from(expected))).toBe(true);
}

/** Odd keys that must round-trip unchanged and never collide with each other. */
export const ODD_KEYS: readonly string[] = [
  "creds",
  "pre-key-12",
  "session-123.0",
  "app-state-sync-key-AB/CD+E=",
  "app-state-sync-key-AB__CD+E=",
  "sender-key-1203@g.us::4072::0",
  "sender-key-1203@g.us--4072--0",
  "a/b",
  "a%2Fb",
  "a:b",
  "a-b",
  ".",
  "..",
  "",
  "__name__",
  "%",
  "%H00",
  "ünïcødé-键-🔑",
  "x".repeat(500),
  "é".repeat(500),
  "🔑".repeat(200),
  "tab\tnewline\nnul\u0000",
];

/**
 * The one SessionStore contract. Every adapter (and every mode of a composite)
 * runs it; `makeStore` is called once per file (stores may be slow to start).
 */
export function runSessionStoreContract(name: string, makeStore: () => Promise<ContractSubject>): void {
  describe(`SessionStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: SessionStore;

    beforeAll(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.dispose();
    });

    it("round-trips Buffer and Uint8Array leaves, nested in objects and arrays, including empty ones", async () => {
      const session = freshSession();
      const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
      const value: StoredValue = {
        buf: bytes(0, 255, 128),
        u8: new Uint8Array([7, 8]),
        view: backing.subarray(2, 5),
        empty: Buffer.alloc(0),
        emptyU8: new Uint8Array(0),
        nested: { deeper: [bytes(1), { k: bytes(2, 3) }, [bytes(4), []]] },
        scalars: { s: "text", n: 42.5, neg: -1, t: true, f: false, nothing: null, arr: [[1, 2], [3]] },
      };
      await store.setMany(
        session,
        new Map<string, StoredValue>([
          ["v", value],
          ["top", bytes(5, 6)],
          ["topU8", new Uint8Array([1])],
        ]),
      );
      const got = await store.getMany(session, ["v", "top", "topU8"]);
      const v = got.get("v") as Record<string, StoredValue>;
      expectBinaryEqual(v["buf"], bytes(0, 255, 128));
      expectBinaryEqual(v["u8"], bytes(7, 8));
      expectBinaryEqual(v["view"], bytes(1, 2, 3));
      expectBinaryEqual(v["empty"], new Uint8Array(0));
      expectBinaryEqual(v["emptyU8"], new Uint8Array(0));
      const nested = (v["nested"] as Record<string, StoredValue>)["deeper"] as StoredValue[];
      expectBinaryEqual(nested[0], bytes(1));
      expectBinaryEqual((nested[1] as Record<string, StoredValue>)["k"], bytes(2, 3));
      expectBinaryEqual((nested[2] as StoredValue[])[0], bytes(4));
      expect((nested[2] as StoredValue[])[1]).toEqual([]);
      expect(v["scalars"]).toEqual({
        s: "text",
        n: 42.5,
        neg: -1,
        t: true,
        f: false,
        nothing: null,
        arr: [[1, 2], [3]],
      });
      expectBinaryEqual(got.get("top"), bytes(5, 6));
      expectBinaryEqual(got.get("topU8"), bytes(1));
    });

    it("leaves missing keys out, overwrites, and deletes on null", async () => {
      const session = freshSession();
      expect((await store.getMany(session, ["nope"])).size).toBe(0);
      await store.setMany(
        session,
        new Map<string, StoredValue>([
          ["a", 1],
          ["b", "two"],
          ["c", { x: 1 }],
        ]),
      );
      await store.setMany(
        session,
        new Map<string, StoredValue | null>([
          ["a", null],
          ["b", "deux"],
          ["never-there", null],
        ]),
      );
      const got = await store.getMany(session, ["a", "b", "c", "never-there"]);
      expect([...got.keys()].sort()).toEqual(["b", "c"]);
      expect(got.get("b")).toBe("deux");
      expect(got.get("c")).toEqual({ x: 1 });
    });

    it("keeps sessions isolated", async () => {
      const s1 = freshSession();
      const s2 = freshSession();
      await store.setMany(s1, new Map([["creds", "one"]]));
      await store.setMany(
        s2,
        new Map<string, StoredValue>([
          ["creds", "two"],
          ["only-2", 2],
        ]),
      );
      await store.setMany(s2, new Map([["creds", null]]));
      expect((await store.getMany(s1, ["creds", "only-2"])).get("creds")).toBe("one");
      expect([...(await store.entries(s1)).keys()]).toEqual(["creds"]);
      expect([...(await store.entries(s2)).keys()]).toEqual(["only-2"]);
    });

    it("applies concurrent setMany calls each as a whole", async () => {
      const session = freshSession();
      const writers = Array.from({ length: 20 }, (_, i) =>
        store.setMany(
          session,
          new Map<string, StoredValue>([
            ["shared-a", i],
            ["shared-b", i],
            [`own-${i}`, bytes(i)],
          ]),
        ),
      );
      await Promise.all(writers);
      const all = await store.entries(session);
      for (let i = 0; i < 20; i++) expectBinaryEqual(all.get(`own-${i}`), bytes(i));
      expect(typeof all.get("shared-a")).toBe("number");
      expect(all.get("shared-a")).toBe(all.get("shared-b"));
      expect(all.size).toBe(22);
    });

    it("clears one session and lists only sessions that hold keys", async () => {
      const kept = freshSession();
      const cleared = freshSession();
      const emptied = freshSession();
      await store.setMany(kept, new Map([["k", 1]]));
      await store.setMany(
        cleared,
        new Map<string, StoredValue>([
          ["k", 1],
          ["j", bytes(1)],
        ]),
      );
      await store.setMany(emptied, new Map([["k", 1]]));
      await store.setMany(emptied, new Map([["k", null]]));
      await store.clear(cleared);
      const listed = await store.listSessions();
      expect(listed).toContain(kept);
      expect(listed).not.toContain(cleared);
      expect(listed).not.toContain(emptied);
      expect((await store.entries(cleared)).size).toBe(0);
      expect((await store.getMany(kept, ["k"])).get("k")).toBe(1);
      await store.setMany(cleared, new Map([["after", true]]));
      expect(await store.entries(cleared)).toEqual(new Map([["after", true]]));
      await store.clear(freshSession());
    });

    it("returns every key with entries", async () => {
      const session = freshSession();
      const written = new Map<string, StoredValue>([
        ["creds", { me: "x", key: bytes(1, 2) }],
        ["pre-key-1", bytes(3)],
        ["session-9.0", "s"],
      ]);
      await store.setMany(session, written);
      const all = await store.entries(session);
      expect([...all.keys()].sort()).toEqual(["creds", "pre-key-1", "session-9.0"]);
      expectBinaryEqual((all.get("creds") as Record<string, StoredValue>)["key"], bytes(1, 2));
    });

    it("stores a 500 KB value", async () => {
      const session = freshSession();
      const big = Buffer.alloc(500 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
      const text = "é".repeat(100_000);
      await store.setMany(session, new Map<string, StoredValue>([["big", { big, text }]]));
      const got = (await store.getMany(session, ["big"])).get("big") as Record<string, StoredValue>;
      expectBinaryEqual(got["big"], big);
      expect(got["text"]).toBe(text);
    });

    it("round-trips odd key ids without collisions", async () => {
      const session = freshSession();
      const written = new Map<string, StoredValue>(ODD_KEYS.map((key, i) => [key, { i, b: bytes(i) }]));
      await store.setMany(session, written);
      const got = await store.getMany(session, ODD_KEYS);
      expect(got.size).toBe(ODD_KEYS.length);
      ODD_KEYS.forEach((key, i) => expect((got.get(key) as Record<string, StoredValue>)["i"]).toBe(i));
      const all = await store.entries(session);
      expect([...all.keys()].sort()).toEqual([...ODD_KEYS].sort());
      await store.setMany(session, new Map(ODD_KEYS.map((key) => [key, null])));
      expect((await store.entries(session)).size).toBe(0);
    });

    it("writes, reads and deletes more than 500 keys in one call", async () => {
      const session = freshSession();
      const keys = Array.from({ length: 620 }, (_, i) => `pre-key-${i}`);
      await store.setMany(
        session,
        new Map(keys.map((key, i) => [key, { keyPair: { public: bytes(i % 256, 1), private: bytes(i % 256, 2) } }])),
      );
      const got = await store.getMany(session, keys);
      expect(got.size).toBe(620);
      expectBinaryEqual(
        ((got.get("pre-key-619") as Record<string, StoredValue>)["keyPair"] as Record<string, StoredValue>)["private"],
        bytes(619 % 256, 2),
      );
      expect((await store.entries(session)).size).toBe(620);
      await store.setMany(session, new Map(keys.map((key) => [key, null])));
      expect((await store.entries(session)).size).toBe(0);
    });

    it("rejects a session id that cannot be a file or document name", async () => {
      await expect(store.getMany("../etc", ["x"])).rejects.toThrow();
      await expect(store.setMany("a/b", new Map([["x", 1]]))).rejects.toThrow();
    });

    it("reports health", () => {
      expect(["ok", "degraded"]).toContain(store.health().status);
    });
  });
}
