import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  FirestoreMessageStore,
  type FirestoreMessageStoreOptions,
} from "../../src/adapters/message-store/firestore/firestore.message-store.ts";
import { FirestoreSessionLease } from "../../src/adapters/session-lease/firestore/firestore.session-lease.ts";
import { ManualClock } from "../fakes/manual-clock.ts";
import type { Message } from "../../src/domain/message.ts";
import { ALICE, anInbound, anOutbound, BOB, CAROL, ids, ROUTE, t } from "../contracts/message-store.fixtures.ts";
import {
  firestoreEmulatorAvailable,
  startFirestoreEmulator,
  type FirestoreEmulator,
} from "../support/firestore-emulator.ts";

// Several instances of a cluster: several stores on one emulator and one
// namespace, each with its own Firestore client, as separate processes have.
describe.skipIf(!firestoreEmulatorAvailable())("FirestoreMessageStore shared by several instances", () => {
  let emulator: FirestoreEmulator;
  let namespaces = 0;
  let open: FirestoreMessageStore[] = [];
  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
  }, 90_000);
  afterAll(async () => {
    await emulator?.stop();
  });
  afterEach(async () => {
    for (const store of open) await store.close();
    open = [];
  });

  /** `count` instances sharing a fresh namespace. */
  function instances(count: number, options: Partial<FirestoreMessageStoreOptions> = {}): FirestoreMessageStore[] {
    namespaces += 1;
    const made = Array.from(
      { length: count },
      () =>
        new FirestoreMessageStore({
          projectId: emulator.projectId,
          emulatorHost: emulator.host,
          namespace: `cluster-${namespaces}`,
          ...options,
        }),
    );
    open.push(...made);
    return made;
  }

  it("accepts one Idempotency-Key once across instances, whichever instance each request reaches", async () => {
    const [a, b, c] = instances(3);
    const inputs = [a!, b!, c!, a!, b!, c!].map((store) => ({
      store,
      input: anOutbound({ idempotency: { key: "cross-instance", fingerprint: "f" } }),
    }));
    const results = await Promise.all(inputs.map(({ store, input }) => store.enqueue(input)));
    expect(results.filter((r) => r.kind === "created")).toHaveLength(1);
    expect(results.filter((r) => r.kind === "existing")).toHaveLength(5);
    expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
    expect((await a!.list({ limit: 100 })).items).toHaveLength(1);
  });

  it("keeps each recipient's acceptance order when instances enqueue to it in turn", async () => {
    const [a, b] = instances(2);
    const accepted: Message[] = [];
    for (let i = 0; i < 6; i++) {
      const store = i % 2 === 0 ? a! : b!;
      const result = await store.enqueue(anOutbound({ to: ALICE }));
      accepted.push(result.message);
    }
    const sent: string[] = [];
    for (let round = 0; round < 6; round++) {
      const store = round % 2 === 0 ? b! : a!;
      const [claimed, ...more] = await store.claim(ROUTE, 10, 60_000, t(round));
      expect(more).toEqual([]);
      sent.push(claimed!.id);
      await store.recordAttempt(claimed!.id, { kind: "sent", providerMessageId: `p-${round}` }, t(round));
    }
    expect(sent).toEqual(ids(accepted));
  });

  it("never hands one message to two instances claiming the same route at once", async () => {
    const stores = instances(3);
    const recipients = [ALICE, BOB, CAROL];
    const accepted: Message[] = [];
    for (let i = 0; i < 9; i++)
      accepted.push((await stores[i % 3]!.enqueue(anOutbound({ to: recipients[Math.floor(i / 3)]! }))).message);
    const handed: { store: number; message: Message }[] = [];
    // Rounds of simultaneous claims by every instance; each records what it got before the next round.
    for (let round = 0; round < 20 && handed.length < accepted.length; round++) {
      const claims = await Promise.all(stores.map((store) => store.claim(ROUTE, 3, 60_000, t(round), 2)));
      await Promise.all(
        claims.flatMap((claimed, store) =>
          claimed.map(async (message) => {
            handed.push({ store, message });
            await stores[store]!.recordAttempt(
              message.id,
              { kind: "sent", providerMessageId: `p-${message.id}` },
              t(round),
            );
          }),
        ),
      );
    }
    const handedIds = handed.map((h) => h.message.id);
    expect(new Set(handedIds).size).toBe(handedIds.length);
    expect([...handedIds].sort()).toEqual(ids(accepted).sort());
    for (const to of recipients) {
      const order = handed.filter((h) => h.message.to === to).map((h) => h.message.id);
      expect(order).toEqual(ids(accepted.filter((m) => m.to === to)));
    }
  });

  it("applies a receipt at any instance, also one that beat the sender's own record of the provider id", async () => {
    const [owner, other] = instances(2);
    const m = (await owner!.enqueue(anOutbound({ to: BOB }))).message;
    await owner!.claim(ROUTE, 1, 60_000, t(1));
    expect(
      await other!.applyStatus({ provider: ROUTE.provider, providerMessageId: "wamid.X", status: "delivered" }, t(2)),
    ).toBeUndefined();
    const sent = await owner!.recordAttempt(m.id, { kind: "sent", providerMessageId: "wamid.X" }, t(3));
    expect(sent.status).toBe("delivered");
    const read = await other!.applyStatus(
      { provider: ROUTE.provider, providerMessageId: "wamid.X", status: "read" },
      t(4),
    );
    expect(read?.reached).toEqual(["read"]);
    expect((await owner!.findByProviderMessageId(ROUTE.provider, "wamid.X"))?.status).toBe("read");
  });

  it("records an inbound message delivered to two instances at once only once", async () => {
    const [a, b] = instances(2);
    const [first, second] = await Promise.all([
      a!.recordInbound(anInbound({ providerMessageId: "wa-in-twice" })),
      b!.recordInbound(anInbound({ providerMessageId: "wa-in-twice" })),
    ]);
    expect([first.created, second.created].sort()).toEqual([false, true]);
    expect(second.message.id).toBe(first.message.id);
    expect((await a!.list({ limit: 10, direction: "inbound" })).items).toHaveLength(1);
  });

  it("applies a receipt that races the send's record at another instance, every time", async () => {
    const [owner, other] = instances(2);
    for (let i = 0; i < 4; i++) {
      const m = (await owner!.enqueue(anOutbound({ to: `whatsapp:+407020000${i}` }))).message;
      expect(ids(await owner!.claim(ROUTE, 10, 60_000, t(1)))).toEqual([m.id]);
      const providerMessageId = `wamid.race-${i}`;
      await Promise.all([
        other!.applyStatus({ provider: ROUTE.provider, providerMessageId, status: "delivered" }, t(2)),
        owner!.recordAttempt(m.id, { kind: "sent", providerMessageId }, t(2)),
      ]);
      expect((await owner!.get(m.id))?.status).toBe("delivered");
    }
  });

  it("either cancels a queued message or hands it out, never both, when instances race", async () => {
    const [a, b] = instances(2);
    for (let i = 0; i < 4; i++) {
      const m = (await a!.enqueue(anOutbound({ to: `whatsapp:+407030000${i}` }))).message;
      const [claimed, cancel] = await Promise.all([
        a!.claim(ROUTE, 10, 60_000, t(1)),
        b!.amend(m.id, { kind: "cancelled" }, t(1)),
      ]);
      const handedOut = claimed.some((c) => c.id === m.id);
      expect(handedOut).toBe(!cancel!.changed);
      expect((await a!.get(m.id))?.status).toBe(handedOut ? "sending" : "failed");
    }
  });

  describe("fencing", () => {
    it("commits claims and outcomes only while this instance's lease holds its token", async () => {
      // Two instances' real Firestore leases on one collection and one clock.
      const collection = `leases-fence-${namespaces + 1}`;
      const clock = new ManualClock(new Date("2026-12-08T00:00:00Z"));
      const lease = (instanceId: string) =>
        new FirestoreSessionLease({
          projectId: emulator.projectId,
          emulatorHost: emulator.host,
          instanceId,
          leaseMs: 15_000,
          collection,
          clock,
        });
      const leaseA = lease("instance-a");
      const leaseB = lease("instance-b");
      const [owner] = instances(1, { fencing: { holder: leaseA, leasesCollection: collection } });
      expect(await leaseA.acquire(ROUTE.session)).toMatchObject({ acquired: true, lease: { token: 1 } });

      const first = (await owner!.enqueue(anOutbound({ to: ALICE }))).message;
      const second = (await owner!.enqueue(anOutbound({ to: BOB }))).message;
      expect(ids(await owner!.claim(ROUTE, 1, 60_000, t(1)))).toEqual([first.id]);

      // A stops renewing (paused); its lease expires and B takes the session over: token 2.
      clock.advance(15_000);
      expect(await leaseB.acquire(ROUTE.session)).toMatchObject({ acquired: true, lease: { token: 2 } });
      await expect(owner!.claim(ROUTE, 10, 60_000, t(2))).rejects.toMatchObject({
        code: "SESSION.LEASE_LOST",
        message: expect.stringMatching(/token 2/),
      });
      await expect(
        owner!.recordAttempt(first.id, { kind: "sent", providerMessageId: "late" }, t(3)),
      ).rejects.toMatchObject({ code: "SESSION.LEASE_LOST" });
      expect(await owner!.requeueInFlight(t(4))).toBe(0);
      expect((await owner!.get(first.id))?.status).toBe("sending");
      expect((await owner!.get(second.id))?.status).toBe("queued");
      // Receipts and acceptance are not the owner's alone: they are never fenced.
      const third = await owner!.enqueue(anOutbound({ to: CAROL }));
      expect(third.kind).toBe("created");

      // The new owner works the same queue under its token.
      const newOwner = new FirestoreMessageStore({
        projectId: emulator.projectId,
        emulatorHost: emulator.host,
        namespace: `cluster-${namespaces}`,
        fencing: { holder: leaseB, leasesCollection: collection },
      });
      open.push(newOwner);
      expect(ids(await newOwner.claim(ROUTE, 10, 60_000, t(5)))).toEqual([second.id, third.message.id]);
      await Promise.all([leaseA.close(), leaseB.close()]);
    });
  });
  // Last: it stops the file's emulator (which comes back empty).
  it("answers STORE.UNAVAILABLE while Firestore is out of reach, and works again once it is back", async () => {
    const [store] = instances(1, { callTimeoutMs: 4_000 });
    const accepted = (await store!.enqueue(anOutbound({ to: ALICE }))).message;
    await emulator.stop();
    await expect(store!.enqueue(anOutbound({ to: BOB }))).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
    await expect(store!.get(accepted.id)).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
    await emulator.start();
    // The client reconnects with a backoff: retry as an API client would after a 503, with one key.
    const again = anOutbound({ to: BOB, idempotency: { key: "after-outage", fingerprint: "f" } });
    let after: Awaited<ReturnType<FirestoreMessageStore["enqueue"]>> | undefined;
    for (let attempt = 0; attempt < 40 && after === undefined; attempt++) {
      after = await store!.enqueue(again).catch((error: unknown) => {
        expect(error).toMatchObject({ code: "STORE.UNAVAILABLE" });
        return undefined;
      });
    }
    expect(after?.message.id).toBe(again.id);
    expect((await store!.get(again.id))?.id).toBe(again.id);
  });
});
