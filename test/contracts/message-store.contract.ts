import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Message, NewOutboundMessage } from "../../src/domain/message.ts";
import type { MessageStore } from "../../src/domain/ports/message-store.port.ts";
import { changeCases } from "./message-store-changes.cases.ts";
import { earlyStatusCases } from "./message-store-early-status.cases.ts";
import { historyCases } from "./message-store-history.cases.ts";
import { runCases } from "./message-store-run.cases.ts";
import { plainConversation } from "../../src/domain/conversation.ts";
import { mediaFromUrl } from "../../src/domain/media.ts";
import {
  ALICE,
  anInbound,
  anOutbound,
  HELD_PNG,
  BOB,
  CAROL,
  enqueueCreated,
  ids,
  iso,
  REJECTED,
  ROUTE,
  statuses,
  t,
  TIMEOUT,
  type ContractContext,
  type StoreOptions,
} from "./message-store.fixtures.ts";

export { anInbound, anOutbound } from "./message-store.fixtures.ts";

/**
 * The MessageStore contract: every adapter of the port runs this suite.
 * `makeStore` returns a fresh, empty store, built with `options` when given
 * (adapter settings the contract pins down), and how to dispose of it.
 */
export function runMessageStoreContract(
  name: string,
  makeStore: (options?: StoreOptions) => Promise<{ store: MessageStore; cleanup(): Promise<void> }>,
): void {
  describe(`MessageStore contract: ${name}`, () => {
    let store: MessageStore;
    let cleanups: (() => Promise<void>)[] = [];
    const enqueue = (overrides: Partial<NewOutboundMessage> = {}): Promise<Message> => enqueueCreated(store, overrides);
    // The cases in other files reach the current test's store through this.
    const context: ContractContext = {
      get store() {
        return store;
      },
      enqueue,
      async open(options) {
        const made = await makeStore(options);
        cleanups.push(made.cleanup);
        return made.store;
      },
    };

    beforeEach(async () => {
      store = await context.open();
    });
    afterEach(async () => {
      for (const cleanup of cleanups) await cleanup();
      cleanups = [];
    });

    describe("conversation facts and amendments", () => {
      it("round-trips a message's conversation facts", async () => {
        const conversation = {
          ...plainConversation("location"),
          replyTo: "m-earlier",
          location: { latitude: 44.43, longitude: 26.1, name: "Shop", address: null },
          lid: "12345678901234@lid",
        };
        const message = await enqueue({ text: "", conversation });
        expect(await store.get(message.id)).toMatchObject(conversation);
        const inbound = anInbound({
          conversation: { ...plainConversation("reaction"), reaction: { messageId: message.id, emoji: "👍" } },
        });
        const recorded = await store.recordInbound(inbound);
        expect((await store.get(recorded.message.id))?.reaction).toEqual({ messageId: message.id, emoji: "👍" });
      });

      it("edits a text keeping the old one, deletes dropping text and files, and refuses to change a deleted one", async () => {
        const message = await enqueue({ text: "first", media: [HELD_PNG] });
        const editedOnce = await store.amend(message.id, { kind: "edited", text: "second" }, t(100));
        expect(editedOnce?.changed).toBe(true);
        expect(editedOnce?.message).toMatchObject({ text: "second", editedAt: iso(100) });
        expect(editedOnce?.message.edits).toEqual([{ text: "first", replacedAt: iso(100) }]);
        const gone = await store.amend(message.id, { kind: "deleted" }, t(200));
        expect(gone?.message).toMatchObject({ text: "", media: [], deletedAt: iso(200), edits: [] });
        expect(await store.mediaInUse(HELD_PNG.id, t(0))).toBe(false);
        expect((await store.amend(message.id, { kind: "edited", text: "third" }, t(300)))?.changed).toBe(false);
        expect(await store.get(message.id)).toMatchObject({ text: "", deletedAt: iso(200) });
        expect(await store.amend("no-such-id", { kind: "deleted" }, t(300))).toBeUndefined();
      });

      it("cancels a queued message (never handed out again, the next one of its recipient is), but not one in flight", async () => {
        const first = await enqueue({ to: ALICE, at: t(0) });
        const second = await enqueue({ to: ALICE, at: t(1) });
        const cancelled = await store.amend(first.id, { kind: "cancelled" }, t(10));
        expect(cancelled?.message).toMatchObject({
          status: "failed",
          error: { code: "message.cancelled" },
          deletedAt: iso(10),
        });
        const claimed = await store.claim(ROUTE, 10, 60_000, t(20));
        expect(ids(claimed)).toEqual([second.id]);
        expect((await store.amend(second.id, { kind: "cancelled" }, t(30)))?.changed).toBe(false);
        expect((await store.get(second.id))?.status).toBe("sending");
      });

      it("finds a message by its provider id in either direction", async () => {
        const sent = await enqueue({ to: BOB });
        await store.claim(ROUTE, 1, 60_000, t(10));
        await store.recordAttempt(sent.id, { kind: "sent", providerMessageId: "wa-out-1" }, t(20));
        const { message: received } = await store.recordInbound(anInbound({ providerMessageId: "wa-in-1" }));
        expect((await store.findByProviderMessageId(sent.provider, "wa-out-1"))?.id).toBe(sent.id);
        expect((await store.findByProviderMessageId(received.provider, "wa-in-1"))?.id).toBe(received.id);
        expect(await store.findByProviderMessageId(sent.provider, "wa-unknown")).toBeUndefined();
        expect(await store.findByProviderMessageId("other-provider", "wa-out-1")).toBeUndefined();
      });
    });

    describe("media", () => {
      it("replaces a message's attachments, keeping its status, and says which files are in use", async () => {
        const message = await enqueue({ media: [mediaFromUrl("https://example.com/a.png")] });
        expect(await store.mediaInUse(HELD_PNG.id, t(0))).toBe(false);
        const updated = await store.updateMedia(message.id, [HELD_PNG], t(5000));
        expect(updated?.media).toEqual([HELD_PNG]);
        expect(updated?.status).toBe("queued");
        expect(updated?.updatedAt).toBe(iso(5000));
        expect((await store.get(message.id))?.media).toEqual([HELD_PNG]);
        // Queued: needed however old.
        expect(await store.mediaInUse(HELD_PNG.id, t(10_000_000))).toBe(true);
        expect(await store.mediaInUse("other-id", t(0))).toBe(false);
        expect(await store.updateMedia("no-such-message", [HELD_PNG], t(5000))).toBeUndefined();
      });

      it("counts a finished message's files as in use only while the message is recent", async () => {
        const message = await enqueue({ media: [HELD_PNG], at: t(1000) });
        const [claimed] = await store.claim(ROUTE, 1, 60_000, t(2000));
        expect(claimed?.id).toBe(message.id);
        await store.recordAttempt(message.id, { kind: "failed", error: REJECTED }, t(3000));
        expect(await store.mediaInUse(HELD_PNG.id, t(3000))).toBe(true);
        expect(await store.mediaInUse(HELD_PNG.id, t(3001))).toBe(false);
      });

      it("knows the files of inbound messages", async () => {
        await store.recordInbound(anInbound({ media: [HELD_PNG], at: t(1000) }));
        expect(await store.mediaInUse(HELD_PNG.id, t(1000))).toBe(true);
        expect(await store.mediaInUse(HELD_PNG.id, t(1001))).toBe(false);
      });
    });

    describe("enqueue and get", () => {
      it("round-trips every field of an outbound message", async () => {
        const input = anOutbound({
          channel: "sms",
          to: "sms:+14155550100",
          from: "sms:+14155550199",
          text: "Your code is 1234 – ünïcødé ✓",
          media: [HELD_PNG, mediaFromUrl("https://example.com/b.pdf", { caption: "the bill" })],
          metadata: { orderId: 42, tags: ["a", "b"], nested: { ok: true, none: null } },
          idempotency: { key: "key-1", fingerprint: "fp-1" },
          provider: "twilio",
          session: "default",
          at: t(1234),
        });
        const result = await store.enqueue(input);
        const expected: Message = {
          id: input.id,
          direction: "outbound",
          status: "queued",
          channel: "sms",
          provider: "twilio",
          session: "default",
          to: "sms:+14155550100",
          from: "sms:+14155550199",
          text: "Your code is 1234 – ünïcødé ✓",
          media: [HELD_PNG, mediaFromUrl("https://example.com/b.pdf", { caption: "the bill" })],
          ...plainConversation("media"),
          metadata: { orderId: 42, tags: ["a", "b"], nested: { ok: true, none: null } },
          providerMessageId: null,
          attempts: 0,
          error: null,
          createdAt: iso(1234),
          updatedAt: iso(1234),
          history: [{ status: "queued", at: iso(1234) }],
        };
        expect(result).toEqual({ kind: "created", message: expected });
        expect(await store.get(input.id)).toEqual(expected);
      });

      it("keeps null from and metadata as null", async () => {
        const message = await enqueue({ from: null, metadata: null });
        const stored = await store.get(message.id);
        expect(stored?.from).toBeNull();
        expect(stored?.metadata).toBeNull();
        expect(stored?.media).toEqual([]);
      });

      it("returns undefined for an unknown id", async () => {
        expect(await store.get("no-such-message")).toBeUndefined();
      });
    });

    describe("idempotency", () => {
      it("returns the first message for the same key and fingerprint, writing nothing", async () => {
        const first = await enqueue({ idempotency: { key: "k", fingerprint: "f" } });
        const again = await store.enqueue(anOutbound({ idempotency: { key: "k", fingerprint: "f" } }));
        expect(again.kind).toBe("existing");
        expect(again.message).toEqual(first);
        expect(ids((await store.list({ limit: 100 })).items)).toEqual([first.id]);
      });

      it("reports a conflict for the same key with another fingerprint, writing nothing", async () => {
        const first = await enqueue({ idempotency: { key: "k", fingerprint: "f" } });
        const other = anOutbound({ idempotency: { key: "k", fingerprint: "g" }, text: "different" });
        const again = await store.enqueue(other);
        expect(again.kind).toBe("conflict");
        expect(again.message.id).toBe(first.id);
        expect(await store.get(other.id)).toBeUndefined();
        expect((await store.list({ limit: 100 })).items).toHaveLength(1);
      });

      it("treats different keys, and messages without a key, as different messages", async () => {
        await enqueue({ idempotency: { key: "k1", fingerprint: "f" } });
        await enqueue({ idempotency: { key: "k2", fingerprint: "f" } });
        await enqueue();
        await enqueue();
        expect((await store.list({ limit: 100 })).items).toHaveLength(4);
      });

      it("stays correct for same-key enqueues issued together", async () => {
        const inputs = [
          anOutbound({ idempotency: { key: "same", fingerprint: "f" } }),
          anOutbound({ idempotency: { key: "same", fingerprint: "f" } }),
          anOutbound({ idempotency: { key: "same", fingerprint: "other" } }),
          anOutbound({ idempotency: { key: "same", fingerprint: "f" } }),
        ];
        const results = await Promise.all(inputs.map((input) => store.enqueue(input)));
        expect(results.map((r) => r.kind)).toEqual(["created", "existing", "conflict", "existing"]);
        expect(new Set(results.map((r) => r.message.id))).toEqual(new Set([inputs[0]!.id]));
        expect(ids((await store.list({ limit: 100 })).items)).toEqual([inputs[0]!.id]);
      });
    });

    describe("claim: FIFO per recipient", () => {
      it("hands out only each recipient's oldest message, recipients in parallel, in acceptance order", async () => {
        const a1 = await enqueue({ to: ALICE });
        const a2 = await enqueue({ to: ALICE });
        const b1 = await enqueue({ to: BOB });
        const claimed = await store.claim(ROUTE, 10, 30_000, t(1));
        expect(ids(claimed)).toEqual([a1.id, b1.id]);
        expect(claimed.every((m) => m.status === "sending")).toBe(true);
        expect(await store.claim(ROUTE, 10, 30_000, t(2))).toEqual([]);
        await store.recordAttempt(a1.id, { kind: "sent", providerMessageId: "p-a1" }, t(3));
        expect(ids(await store.claim(ROUTE, 10, 30_000, t(4)))).toEqual([a2.id]);
      });

      it("holds a recipient's next message while the first waits for its retry", async () => {
        const a1 = await enqueue({ to: ALICE });
        const a2 = await enqueue({ to: ALICE });
        await store.claim(ROUTE, 10, 30_000, t(1));
        await store.recordAttempt(a1.id, { kind: "retry", error: TIMEOUT, nextAttemptAt: t(10_000) }, t(2));
        expect(await store.claim(ROUTE, 10, 30_000, t(5_000))).toEqual([]);
        expect(ids(await store.claim(ROUTE, 10, 30_000, t(10_000)))).toEqual([a1.id]);
        await store.recordAttempt(a1.id, { kind: "failed", error: REJECTED }, t(10_001));
        expect(ids(await store.claim(ROUTE, 10, 30_000, t(10_002)))).toEqual([a2.id]);
      });

      it("respects the limit and keeps acceptance order across recipients", async () => {
        const recipients = [ALICE, BOB, CAROL, "whatsapp:+40700000004", "whatsapp:+40700000005"];
        const messages = [];
        for (const to of recipients) messages.push(await enqueue({ to }));
        expect(ids(await store.claim(ROUTE, 3, 30_000, t(1)))).toEqual(ids(messages.slice(0, 3)));
        expect(ids(await store.claim(ROUTE, 3, 30_000, t(2)))).toEqual(ids(messages.slice(3)));
      });

      it("does not hand out a message before it is due", async () => {
        const later = await enqueue({ at: t(5_000) });
        expect(await store.claim(ROUTE, 10, 30_000, t(4_999))).toEqual([]);
        expect(ids(await store.claim(ROUTE, 10, 30_000, t(5_000)))).toEqual([later.id]);
      });

      it("hands out nothing for a limit below one", async () => {
        await enqueue();
        expect(await store.claim(ROUTE, 0, 30_000, t(1))).toEqual([]);
      });
    });

    describe("claim: leases", () => {
      it("hands an expired lease out again, never an unexpired one, and keeps the recipient blocked meanwhile", async () => {
        const a1 = await enqueue({ to: ALICE });
        await enqueue({ to: ALICE });
        await store.claim(ROUTE, 10, 1_000, t(0));
        expect(await store.claim(ROUTE, 10, 1_000, t(999))).toEqual([]);
        const again = await store.claim(ROUTE, 10, 1_000, t(1_000));
        expect(ids(again)).toEqual([a1.id]);
        expect(again[0]?.status).toBe("sending");
        expect(await store.claim(ROUTE, 10, 1_000, t(1_500))).toEqual([]);
      });
    });

    describe("recordAttempt", () => {
      it("sent: status sent, provider id stored, attempt counted, history extended", async () => {
        const m = await enqueue();
        await store.claim(ROUTE, 1, 30_000, t(1));
        const sent = await store.recordAttempt(m.id, { kind: "sent", providerMessageId: "wamid.1" }, t(2));
        expect(sent).toMatchObject({
          status: "sent",
          providerMessageId: "wamid.1",
          attempts: 1,
          error: null,
          updatedAt: iso(2),
        });
        expect(sent.history).toEqual([
          { status: "queued", at: iso(0) },
          { status: "sending", at: iso(1) },
          { status: "sent", at: iso(2) },
        ]);
        expect(await store.get(m.id)).toEqual(sent);
      });

      it("sent with a further receipt status takes that status", async () => {
        const m = await enqueue();
        await store.claim(ROUTE, 1, 30_000, t(1));
        const sent = await store.recordAttempt(
          m.id,
          { kind: "sent", providerMessageId: "SM1", status: "delivered" },
          t(2),
        );
        expect(sent.status).toBe("delivered");
      });

      it("retry: back to queued with the error, due at the given time", async () => {
        const m = await enqueue();
        await store.claim(ROUTE, 1, 30_000, t(1));
        const retried = await store.recordAttempt(
          m.id,
          { kind: "retry", error: TIMEOUT, nextAttemptAt: t(8_000) },
          t(2),
        );
        expect(retried).toMatchObject({ status: "queued", attempts: 1, error: TIMEOUT });
        expect(statuses(retried)).toEqual(["queued", "sending", "queued"]);
        expect(await store.nextDueAt(ROUTE)).toEqual(t(8_000));
        expect(await store.claim(ROUTE, 1, 30_000, t(7_999))).toEqual([]);
        await store.claim(ROUTE, 1, 30_000, t(8_000));
        const sent = await store.recordAttempt(m.id, { kind: "sent", providerMessageId: "p" }, t(8_001));
        expect(sent).toMatchObject({ status: "sent", attempts: 2, error: null });
      });

      it("failed: status failed with the error", async () => {
        const m = await enqueue();
        await store.claim(ROUTE, 1, 30_000, t(1));
        const failed = await store.recordAttempt(m.id, { kind: "failed", error: REJECTED }, t(2));
        expect(failed).toMatchObject({ status: "failed", attempts: 1, error: REJECTED });
        expect(await store.get(m.id)).toEqual(failed);
      });

      it("rejects an unknown id with MESSAGE.NOT_FOUND", async () => {
        await expect(store.recordAttempt("nope", { kind: "failed", error: REJECTED }, t(1))).rejects.toMatchObject({
          code: "MESSAGE.NOT_FOUND",
        });
      });
    });

    describe("queue depth, due time, requeue", () => {
      it("reports depth and oldest age per route with waiting messages", async () => {
        await enqueue({ at: t(0) });
        await enqueue({ at: t(100), to: BOB });
        await enqueue({ at: t(200), to: CAROL });
        await enqueue({ at: t(50), session: "other" });
        const done = await enqueue({ at: t(300), session: "third" });
        await store.claim(ROUTE, 1, 30_000, t(400));
        await store.claim({ provider: ROUTE.provider, session: "third" }, 1, 30_000, t(400));
        await store.recordAttempt(done.id, { kind: "sent", providerMessageId: "x" }, t(401));

        const depths = await store.queueDepths(t(1_000));
        const sorted = [...depths].sort((a, b) => a.session.localeCompare(b.session));
        expect(sorted).toEqual([
          { provider: ROUTE.provider, session: "main", depth: 3, oldestAgeMs: 1_000 },
          { provider: ROUTE.provider, session: "other", depth: 1, oldestAgeMs: 950 },
        ]);
      });

      it("gives the earliest claimable moment, ignoring messages queued behind another", async () => {
        expect(await store.nextDueAt(ROUTE)).toBeUndefined();
        await enqueue({ to: ALICE, at: t(100) });
        await enqueue({ to: ALICE, at: t(200) });
        expect(await store.nextDueAt(ROUTE)).toEqual(t(100));
        await store.claim(ROUTE, 10, 5_000, t(300));
        expect(await store.nextDueAt(ROUTE)).toEqual(t(5_300));
        await enqueue({ to: BOB, at: t(400) });
        expect(await store.nextDueAt(ROUTE)).toEqual(t(400));
      });

      it("puts in-flight messages back in the queue", async () => {
        const a = await enqueue({ to: ALICE });
        const b = await enqueue({ to: BOB });
        await enqueue({ to: CAROL });
        await store.claim(ROUTE, 2, 60_000, t(1));
        expect(await store.requeueInFlight(t(2))).toBe(2);
        expect(statuses(await store.get(a.id))).toEqual(["queued", "sending", "queued"]);
        expect(await store.requeueInFlight(t(3))).toBe(0);
        expect(ids(await store.claim(ROUTE, 10, 60_000, t(3)))).toEqual(expect.arrayContaining([a.id, b.id]));
      });
    });

    describe("routes", () => {
      it("never hands out another (provider, session)'s messages", async () => {
        const mine = await enqueue({ provider: "baileys", session: "s1", to: ALICE });
        const otherSession = await enqueue({ provider: "baileys", session: "s2", to: ALICE });
        const otherProvider = await enqueue({ provider: "twilio", session: "s1", to: ALICE });
        expect(ids(await store.claim({ provider: "baileys", session: "s1" }, 10, 30_000, t(1)))).toEqual([mine.id]);
        expect(ids(await store.claim({ provider: "baileys", session: "s2" }, 10, 30_000, t(1)))).toEqual([
          otherSession.id,
        ]);
        expect(ids(await store.claim({ provider: "twilio", session: "s1" }, 10, 30_000, t(1)))).toEqual([
          otherProvider.id,
        ]);
        expect(await store.claim({ provider: "twilio", session: "s2" }, 10, 30_000, t(1))).toEqual([]);
      });
    });

    historyCases(context);
    earlyStatusCases(context);
    runCases(context);
    changeCases(context);
  });
}
