import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FirestoreSessionLease } from "../../../src/adapters/session-lease/firestore/firestore.session-lease.ts";
import { openFirestoreClient } from "../../../src/adapters/shared/firestore/firestore-client.ts";
import { FirestoreSessionStore } from "../../../src/adapters/session-store/firestore/firestore.session-store.ts";
import type { StoredValue } from "../../../src/domain/ports/session-store.port.ts";
import { LeaseLostError, type Lease } from "../../../src/domain/session-lease.ts";
import { ManualClock } from "../../fakes/manual-clock.ts";
import {
  firestoreEmulatorAvailable,
  startFirestoreEmulator,
  type FirestoreEmulator,
} from "../../support/firestore-emulator.ts";

const LEASE_MS = 15_000;

describe.skipIf(!firestoreEmulatorAvailable())("FirestoreSessionStore fenced by session leases (emulator)", () => {
  let emulator: FirestoreEmulator;
  let clock: ManualClock;
  const closers: Array<{ close(): Promise<void> }> = [];

  /** One gateway instance: its leases and its fenced store, on the shared emulator and clock. */
  const instance = (instanceId: string) => {
    const where = { projectId: emulator.projectId, emulatorHost: emulator.host };
    const lease = new FirestoreSessionLease({ ...where, instanceId, leaseMs: LEASE_MS, clock });
    const store = new FirestoreSessionStore({ ...where, fencing: { holder: lease } });
    closers.push(store, lease);
    return { lease, store };
  };
  const unfenced = () => {
    const store = new FirestoreSessionStore({ projectId: emulator.projectId, emulatorHost: emulator.host });
    closers.push(store);
    return store;
  };
  const acquired = async (lease: FirestoreSessionLease, session: string): Promise<Lease> => {
    const outcome = await lease.acquire(session);
    if (!outcome.acquired) throw new Error(`expected ${lease.instanceId} to acquire ${session}`);
    return outcome.lease;
  };
  const stagingLeft = async (session: string) => {
    const raw = openFirestoreClient({ projectId: emulator.projectId, emulatorHost: emulator.host, purpose: "raw" });
    closers.push(raw);
    return (await raw.db.collection(`gatewaySessions/${session}/staging`).get()).size;
  };
  const refusal = (work: Promise<unknown>) =>
    work.then(
      () => {
        throw new Error("the write was not refused");
      },
      (error: unknown) => error,
    );

  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
  });
  afterEach(async () => {
    // Stores before leases: a store's close waits for its writes.
    for (const closer of closers.splice(0)) await closer.close();
    await emulator.reset();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("owner A writes, B takes over (token + 1), A's write is refused and B's keys are intact", async () => {
    clock = new ManualClock(new Date("2026-01-01T00:00:00Z"));
    const a = instance("a");
    const b = instance("b");
    await acquired(a.lease, "s1");
    await a.store.setMany(
      "s1",
      new Map<string, StoredValue>([
        ["creds", { me: "a1" }],
        ["pre-key-1", Buffer.from([1])],
        ["session-x", "a"],
      ]),
    );
    // A is paused past its lease; B takes the session over and moves the Signal keys on.
    clock.advance(LEASE_MS + 1);
    expect((await acquired(b.lease, "s1")).token).toBe(2);
    await b.store.setMany(
      "s1",
      new Map<string, StoredValue>([
        ["pre-key-1", Buffer.from([2])],
        ["session-x", "b"],
        ["sender-key-g", "b"],
      ]),
    );
    // A wakes and writes what it had in hand: an older copy of the same keys.
    const refused = await refusal(
      a.store.setMany(
        "s1",
        new Map<string, StoredValue | null>([
          ["creds", { me: "a2" }],
          ["pre-key-1", Buffer.from([9])],
          ["session-x", "a-stale"],
          ["sender-key-g", null],
        ]),
      ),
    );
    expect(refused).toBeInstanceOf(LeaseLostError);
    expect(refused).toMatchObject({
      code: "SESSION.LEASE_LOST",
      session: "s1",
      instance: "a",
      heldToken: 1,
      current: { owner: "b", token: 2 },
    });
    expect((refused as Error).message).toContain("now held by b with token 2");
    await expect(a.store.clear("s1")).rejects.toMatchObject({ code: "SESSION.LEASE_LOST" });
    await expect(
      a.store.applyVersioned("s1", [{ key: "creds", value: "tiered", version: 99 }], { seq: 99 }),
    ).rejects.toMatchObject({ code: "SESSION.LEASE_LOST" });

    const stored = await unfenced().entries("s1");
    expect(stored.get("creds")).toEqual({ me: "a1" });
    expect(Buffer.from(stored.get("pre-key-1") as Uint8Array)).toEqual(Buffer.from([2]));
    expect(stored.get("session-x")).toBe("b");
    expect(stored.get("sender-key-g")).toBe("b");
    // B goes on writing.
    await b.store.setMany("s1", new Map([["session-x", "b2"]]));
    expect((await b.store.getMany("s1", ["session-x"])).get("session-x")).toBe("b2");
  });

  it("refuses a write for a session the instance holds no lease of, and one after it released the lease", async () => {
    clock = new ManualClock(new Date("2026-01-01T00:00:00Z"));
    const a = instance("a");
    const b = instance("b");
    await acquired(b.lease, "s2");
    const never = await refusal(a.store.setMany("s2", new Map([["creds", "a"]])));
    expect(never).toMatchObject({ code: "SESSION.LEASE_LOST", heldToken: null, current: { owner: "b", token: 1 } });
    expect((never as Error).message).toContain("instance a holds no lease");

    const lease = await acquired(a.lease, "s3");
    await a.store.setMany("s3", new Map([["creds", "a"]]));
    await a.lease.release(lease);
    await expect(a.store.setMany("s3", new Map([["creds", "after release"]]))).rejects.toBeInstanceOf(LeaseLostError);
    expect(await unfenced().listSessions()).toEqual(["s3"]);
    expect((await unfenced().getMany("s3", ["creds"])).get("creds")).toBe("a");
  });

  it("a batch too large for one commit is refused too: nothing applied, no staging left behind", async () => {
    clock = new ManualClock(new Date("2026-01-01T00:00:00Z"));
    const a = instance("a");
    const b = instance("b");
    await acquired(a.lease, "s4");
    await a.store.setMany("s4", new Map([["creds", "a"]]));
    clock.advance(LEASE_MS);
    await acquired(b.lease, "s4");
    await b.store.setMany("s4", new Map([["creds", "b"]]));
    // More keys than one commit takes (450 writes): staged, then committed by one write of the session document.
    const big = new Map<string, StoredValue>(Array.from({ length: 700 }, (_, i) => [`pre-key-${i}`, `a-${i}`]));
    big.set("creds", "a-stale");
    await expect(a.store.setMany("s4", big)).rejects.toMatchObject({ code: "SESSION.LEASE_LOST" });
    const raw = unfenced();
    expect([...(await raw.entries("s4")).keys()]).toEqual(["creds"]);
    expect(await stagingLeft("s4")).toBe(0);
    expect((await raw.getMany("s4", ["creds"])).get("creds")).toBe("b");
    // The rightful owner's large batch goes through.
    await b.store.setMany("s4", big);
    expect((await raw.entries("s4")).size).toBe(701);
  });
});
