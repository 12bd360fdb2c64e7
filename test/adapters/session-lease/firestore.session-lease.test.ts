import { Timestamp } from "firebase-admin/firestore";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FirestoreInstanceRegistry } from "../../../src/adapters/session-lease/firestore/firestore.instance-registry.ts";
import { FirestoreSessionLease } from "../../../src/adapters/session-lease/firestore/firestore.session-lease.ts";
import { openFirestoreClient, type FirestoreClient } from "../../../src/adapters/shared/firestore/firestore-client.ts";
import { LeaseLostError } from "../../../src/domain/session-lease.ts";
import {
  firestoreEmulatorAvailable,
  startFirestoreEmulator,
  type FirestoreEmulator,
} from "../../support/firestore-emulator.ts";

describe.skipIf(!firestoreEmulatorAvailable())("FirestoreSessionLease (emulator)", () => {
  let emulator: FirestoreEmulator;
  let raw: FirestoreClient;
  const opened: Array<{ close(): Promise<void> }> = [];
  const lease = (instanceId: string, leaseMs: number) => {
    const made = new FirestoreSessionLease({
      projectId: emulator.projectId,
      emulatorHost: emulator.host,
      instanceId,
      leaseMs,
    });
    opened.push(made);
    return made;
  };

  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
    raw = openFirestoreClient({ projectId: emulator.projectId, emulatorHost: emulator.host, purpose: "raw" });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
    await emulator.reset();
  });
  afterAll(async () => {
    await raw?.close();
    await emulator?.stop();
  });

  it("keeps one document per session in leases/{session}, and instances in instances/{id}", async () => {
    const a = lease("gw-a", 15_000);
    await a.acquire("s1");
    const doc = (await raw.db.doc("leases/s1").get()).data();
    expect(doc).toMatchObject({ session: "s1", owner: "gw-a", token: 1, released: false });
    expect(doc?.["expiresAt"]).toBeInstanceOf(Timestamp);
    const registry = new FirestoreInstanceRegistry({
      projectId: emulator.projectId,
      emulatorHost: emulator.host,
      instanceId: "gw-a",
      ttlMs: 15_000,
    });
    opened.push(registry);
    await registry.heartbeat();
    expect((await raw.db.doc("instances/gw-a").get()).data()).toMatchObject({ id: "gw-a" });
  });

  it("on the real clock: an owner that stops renewing loses the lease to a contender, and its renew is refused", async () => {
    const a = lease("gw-a", 1_000);
    const b = lease("gw-b", 1_000);
    const first = await a.acquire("s1");
    if (!first.acquired) throw new Error("a should hold the lease");
    // a is paused (no renewal); b keeps trying, as the rebalancer would, until the lease expires.
    let outcome = await b.acquire("s1");
    while (!outcome.acquired) {
      expect(outcome.holder).toMatchObject({ owner: "gw-a", token: 1 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      outcome = await b.acquire("s1");
    }
    expect(outcome).toMatchObject({ tookOver: true, lease: { owner: "gw-b", token: 2 } });
    const refused = await a.renew(first.lease).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LeaseLostError);
    expect((refused as LeaseLostError).message).toContain("now held by gw-b with token 2");
  });

  it("refuses to read a document that is not a lease rather than treat the session as free", async () => {
    await raw.db.doc("leases/s1").set({ owner: "gw-x" });
    const a = lease("gw-a", 15_000);
    await expect(a.acquire("s1")).rejects.toThrow("leases/s1 is not a lease document");
    expect((await raw.db.doc("leases/s1").get()).data()).toEqual({ owner: "gw-x" });
  });
});
