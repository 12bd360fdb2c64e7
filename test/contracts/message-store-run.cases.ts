import { describe, expect, it } from "vitest";
import { ALICE, BOB, ids, ROUTE, statuses, t, TIMEOUT, type ContractContext } from "./message-store.fixtures.ts";

/** Part of the MessageStore contract: claims with a window (runs of one recipient's messages) and released messages. */
export function runCases(h: ContractContext): void {
  describe("claim with a window: runs per recipient", () => {
    it("hands out up to `window` of a recipient's oldest messages, in acceptance order", async () => {
      const a = [];
      for (let i = 0; i < 5; i++) a.push(await h.enqueue({ to: ALICE }));
      expect(ids(await h.store.claim(ROUTE, 10, 30_000, t(1), 3))).toEqual(ids(a.slice(0, 3)));
    });

    it("gives every due recipient its oldest message before lengthening runs", async () => {
      const a1 = await h.enqueue({ to: ALICE });
      const a2 = await h.enqueue({ to: ALICE });
      const a3 = await h.enqueue({ to: ALICE });
      const b1 = await h.enqueue({ to: BOB });
      const b2 = await h.enqueue({ to: BOB });
      // Limit 3: both heads first, then the one slot left goes to the older recipient's run.
      expect(ids(await h.store.claim(ROUTE, 3, 30_000, t(1), 8))).toEqual([a1.id, a2.id, b1.id]);
      expect(ids(await h.store.claim(ROUTE, 3, 30_000, t(2), 8))).toEqual([]);
      await h.store.recordAttempt(b1.id, { kind: "sent", providerMessageId: "pb1" }, t(3));
      expect(ids(await h.store.claim(ROUTE, 3, 30_000, t(4), 8))).toEqual([b2.id]);
      await h.store.recordAttempt(a1.id, { kind: "sent", providerMessageId: "pa1" }, t(5));
      await h.store.recordAttempt(a2.id, { kind: "sent", providerMessageId: "pa2" }, t(6));
      expect(ids(await h.store.claim(ROUTE, 3, 30_000, t(7), 8))).toEqual([a3.id]);
    });

    it("holds the recipient until every message of its run is recorded", async () => {
      const a = [];
      for (let i = 0; i < 4; i++) a.push(await h.enqueue({ to: ALICE }));
      await h.store.claim(ROUTE, 10, 30_000, t(1), 2);
      await h.store.recordAttempt(a[0]!.id, { kind: "sent", providerMessageId: "p0" }, t(2));
      expect(await h.store.claim(ROUTE, 10, 30_000, t(3), 2)).toEqual([]);
      await h.store.recordAttempt(a[1]!.id, { kind: "sent", providerMessageId: "p1" }, t(4));
      expect(ids(await h.store.claim(ROUTE, 10, 30_000, t(5), 2))).toEqual(ids(a.slice(2)));
    });

    it("ends a run before a message that is not due", async () => {
      const a = [];
      for (let i = 0; i < 3; i++) a.push(await h.enqueue({ to: ALICE }));
      await h.store.claim(ROUTE, 10, 30_000, t(1), 3);
      // a0 and a1 wait for retries, a1's later than a0's; a2 was released.
      await h.store.recordAttempt(a[0]!.id, { kind: "retry", error: TIMEOUT, nextAttemptAt: t(100) }, t(2));
      await h.store.recordAttempt(a[1]!.id, { kind: "retry", error: TIMEOUT, nextAttemptAt: t(500) }, t(2));
      await h.store.recordAttempt(a[2]!.id, { kind: "released" }, t(2));
      expect(ids(await h.store.claim(ROUTE, 10, 30_000, t(100), 3))).toEqual([a[0]!.id]);
    });

    it("hands a run whose lease ran out out again, whole", async () => {
      const a = [];
      for (let i = 0; i < 3; i++) a.push(await h.enqueue({ to: ALICE }));
      await h.store.claim(ROUTE, 10, 1_000, t(0), 3);
      expect(await h.store.claim(ROUTE, 10, 1_000, t(999), 3)).toEqual([]);
      expect(ids(await h.store.claim(ROUTE, 10, 1_000, t(1_000), 3))).toEqual(ids(a));
    });
  });

  describe("recordAttempt: released", () => {
    it("puts the message back in the queue, due at once, without counting an attempt or keeping an error", async () => {
      const a1 = await h.enqueue({ to: ALICE });
      const a2 = await h.enqueue({ to: ALICE });
      await h.store.claim(ROUTE, 10, 30_000, t(1), 2);
      await h.store.recordAttempt(a1.id, { kind: "retry", error: TIMEOUT, nextAttemptAt: t(50) }, t(2));
      const released = await h.store.recordAttempt(a2.id, { kind: "released" }, t(3));
      expect(released).toMatchObject({ status: "queued", attempts: 0 });
      expect(released.error).toBeNull();
      expect(statuses(released)).toEqual(["queued", "sending", "queued"]);
      // Behind its recipient's oldest message, as before.
      expect(await h.store.claim(ROUTE, 10, 30_000, t(10), 2)).toEqual([]);
      expect(ids(await h.store.claim(ROUTE, 10, 30_000, t(50), 2))).toEqual([a1.id, a2.id]);
    });

    it("changes nothing on a message no longer in flight", async () => {
      const m = await h.enqueue({ to: ALICE });
      await h.store.claim(ROUTE, 10, 30_000, t(1));
      await h.store.recordAttempt(m.id, { kind: "sent", providerMessageId: "p" }, t(2));
      const after = await h.store.recordAttempt(m.id, { kind: "released" }, t(3));
      expect(after).toMatchObject({ status: "sent", attempts: 1 });
    });
  });
}
