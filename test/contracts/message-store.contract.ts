import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DomainError, type MessageError } from "../../src/domain/errors.ts";
import type { Message, NewInboundMessage, NewOutboundMessage, Route } from "../../src/domain/message.ts";
import type { MessageStore } from "../../src/domain/ports/message-store.port.ts";

const BASE = Date.parse("2026-01-01T00:00:00.000Z");
/** A moment `ms` after the suite's fixed origin. */
const t = (ms: number): Date => new Date(BASE + ms);
const iso = (ms: number): string => t(ms).toISOString();

const ROUTE: Route = { provider: "baileys", session: "main" };
const ALICE = "whatsapp:+40700000001";
const BOB = "whatsapp:+40700000002";
const CAROL = "whatsapp:+40700000003";
const TIMEOUT: MessageError = { code: "PROVIDER.UNAVAILABLE", message: "socket closed", retryable: true };
const REJECTED: MessageError = { code: "PROVIDER.REJECTED", message: "not on WhatsApp", retryable: false, providerCode: "404" };

let counter = 0;
/** Test data builder: a valid outbound message, unique id, overridable field by field. */
export function anOutbound(overrides: Partial<NewOutboundMessage> = {}): NewOutboundMessage {
  counter += 1;
  return {
    id: `msg-${counter}`,
    provider: ROUTE.provider,
    session: ROUTE.session,
    channel: "whatsapp",
    to: ALICE,
    from: null,
    text: `hello ${counter}`,
    mediaUrls: [],
    metadata: null,
    idempotency: null,
    at: t(0),
    ...overrides,
  };
}

export function anInbound(overrides: Partial<NewInboundMessage> = {}): NewInboundMessage {
  counter += 1;
  return {
    id: `in-${counter}`,
    provider: ROUTE.provider,
    session: ROUTE.session,
    channel: "whatsapp",
    from: BOB,
    to: ALICE,
    text: `reply ${counter}`,
    mediaUrls: [],
    providerMessageId: `wa-${counter}`,
    at: t(0),
    ...overrides,
  };
}

const ids = (messages: readonly Message[]): string[] => messages.map((m) => m.id);
const statuses = (message: Message | undefined): string[] => message?.history.map((h) => h.status) ?? [];

/**
 * The MessageStore contract: every adapter of the port runs this suite.
 * `makeStore` returns a fresh, empty store and how to dispose of it.
 */
export function runMessageStoreContract(
  name: string,
  makeStore: () => Promise<{ store: MessageStore; cleanup(): Promise<void> }>,
): void {
  describe(`MessageStore contract: ${name}`, () => {
    let store: MessageStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    async function enqueue(overrides: Partial<NewOutboundMessage> = {}): Promise<Message> {
      const result = await store.enqueue(anOutbound(overrides));
      expect(result.kind).toBe("created");
      return result.message;
    }

    describe("enqueue and get", () => {
      it("round-trips every field of an outbound message", async () => {
        const input = anOutbound({
          channel: "sms",
          to: "sms:+14155550100",
          from: "sms:+14155550199",
          text: "Your code is 1234 – ünïcødé ✓",
          mediaUrls: ["https://example.com/a.png", "https://example.com/b.pdf"],
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
          mediaUrls: ["https://example.com/a.png", "https://example.com/b.pdf"],
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
        expect(stored?.mediaUrls).toEqual([]);
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
        expect(sent).toMatchObject({ status: "sent", providerMessageId: "wamid.1", attempts: 1, error: null, updatedAt: iso(2) });
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
        const sent = await store.recordAttempt(m.id, { kind: "sent", providerMessageId: "SM1", status: "delivered" }, t(2));
        expect(sent.status).toBe("delivered");
      });

      it("retry: back to queued with the error, due at the given time", async () => {
        const m = await enqueue();
        await store.claim(ROUTE, 1, 30_000, t(1));
        const retried = await store.recordAttempt(m.id, { kind: "retry", error: TIMEOUT, nextAttemptAt: t(8_000) }, t(2));
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

    describe("applyStatus", () => {
      async function sentMessage(providerMessageId: string, provider = ROUTE.provider): Promise<Message> {
        const m = await enqueue({ provider });
        await store.claim({ provider, session: ROUTE.session }, 1, 30_000, t(1));
        return store.recordAttempt(m.id, { kind: "sent", providerMessageId }, t(2));
      }

      it("matches by provider message id and moves forward", async () => {
        const m = await sentMessage("wamid.A");
        const delivered = await store.applyStatus({ provider: ROUTE.provider, providerMessageId: "wamid.A", status: "delivered" }, t(3));
        expect(delivered).toMatchObject({ id: m.id, status: "delivered", updatedAt: iso(3) });
        expect(statuses(delivered)).toEqual(["queued", "sending", "sent", "delivered"]);
        expect((await store.get(m.id))?.status).toBe("delivered");
      });

      it("matches by our message id", async () => {
        const m = await sentMessage("wamid.B");
        const read = await store.applyStatus({ provider: ROUTE.provider, messageId: m.id, status: "read" }, t(3));
        expect(read?.status).toBe("read");
      });

      it("does not match another provider's message id", async () => {
        await sentMessage("shared-id", "twilio");
        expect(await store.applyStatus({ provider: "baileys", providerMessageId: "shared-id", status: "delivered" }, t(3))).toBeUndefined();
      });

      it("never moves backwards: delivered then sent stays delivered", async () => {
        const m = await sentMessage("wamid.C");
        await store.applyStatus({ provider: ROUTE.provider, providerMessageId: "wamid.C", status: "delivered" }, t(3));
        const late = await store.applyStatus({ provider: ROUTE.provider, providerMessageId: "wamid.C", status: "sent" }, t(4));
        expect(late?.status).toBe("delivered");
        expect((await store.get(m.id))?.status).toBe("delivered");
        expect(statuses(await store.get(m.id))).toEqual(["queued", "sending", "sent", "delivered"]);
      });

      it("never moves backwards: read then delivered stays read", async () => {
        const m = await sentMessage("wamid.D");
        await store.applyStatus({ provider: ROUTE.provider, providerMessageId: "wamid.D", status: "read" }, t(3));
        await store.applyStatus({ provider: ROUTE.provider, providerMessageId: "wamid.D", status: "delivered" }, t(4));
        expect((await store.get(m.id))?.status).toBe("read");
      });

      it("keeps a failure and its error", async () => {
        const m = await sentMessage("wamid.E");
        const failed = await store.applyStatus(
          { provider: ROUTE.provider, providerMessageId: "wamid.E", status: "failed", error: REJECTED },
          t(3),
        );
        expect(failed).toMatchObject({ status: "failed", error: REJECTED });
        await store.applyStatus({ provider: ROUTE.provider, providerMessageId: "wamid.E", status: "delivered" }, t(4));
        expect(await store.get(m.id)).toMatchObject({ status: "failed", error: REJECTED });
      });

      it("returns undefined when nothing matches", async () => {
        expect(await store.applyStatus({ provider: "baileys", providerMessageId: "unknown", status: "read" }, t(1))).toBeUndefined();
        expect(await store.applyStatus({ provider: "baileys", messageId: "unknown", status: "read" }, t(1))).toBeUndefined();
      });

      it("lets a recipient's next message go once the first fails by a status report", async () => {
        const a1 = await enqueue({ to: ALICE });
        const a2 = await enqueue({ to: ALICE });
        await store.claim(ROUTE, 10, 30_000, t(1));
        await store.applyStatus({ provider: ROUTE.provider, messageId: a1.id, status: "failed", error: REJECTED }, t(2));
        expect(ids(await store.claim(ROUTE, 10, 30_000, t(3)))).toEqual([a2.id]);
      });
    });

    describe("recordInbound", () => {
      it("records once and returns the first on redelivery", async () => {
        const input = anInbound({ providerMessageId: "wa-in-1", at: t(5) });
        const first = await store.recordInbound(input);
        expect(first.created).toBe(true);
        expect(first.message).toMatchObject({
          id: input.id,
          direction: "inbound",
          status: "received",
          from: input.from,
          to: input.to,
          text: input.text,
          providerMessageId: "wa-in-1",
          createdAt: iso(5),
          history: [{ status: "received", at: iso(5) }],
        });
        const again = await store.recordInbound(anInbound({ providerMessageId: "wa-in-1" }));
        expect(again).toEqual({ message: first.message, created: false });
        expect(await store.get(input.id)).toEqual(first.message);
        expect((await store.list({ limit: 100, direction: "inbound" })).items).toHaveLength(1);
      });

      it("dedupes per provider: the same id from another provider is another message", async () => {
        await store.recordInbound(anInbound({ providerMessageId: "same" }));
        const other = await store.recordInbound(anInbound({ providerMessageId: "same", provider: "twilio" }));
        expect(other.created).toBe(true);
      });
    });

    describe("list", () => {
      it("filters by direction, status and session, newest first", async () => {
        const a = await enqueue({ session: "one" });
        const b = await enqueue({ session: "two" });
        const c = await enqueue({ session: "one", to: BOB });
        const inbound = (await store.recordInbound(anInbound({ session: "one" }))).message;
        await store.claim({ provider: ROUTE.provider, session: "one" }, 10, 30_000, t(1));
        await store.recordAttempt(a.id, { kind: "sent", providerMessageId: "p" }, t(2));

        const all = await store.list({ limit: 100 });
        expect(ids(all.items)).toEqual([inbound.id, c.id, b.id, a.id]);
        expect(all.nextCursor).toBeNull();
        expect(ids((await store.list({ limit: 100, direction: "outbound" })).items)).toEqual([c.id, b.id, a.id]);
        expect(ids((await store.list({ limit: 100, direction: "inbound" })).items)).toEqual([inbound.id]);
        expect(ids((await store.list({ limit: 100, status: "sending" })).items)).toEqual([c.id]);
        expect(ids((await store.list({ limit: 100, status: "queued" })).items)).toEqual([b.id]);
        expect(ids((await store.list({ limit: 100, session: "one" })).items)).toEqual([inbound.id, c.id, a.id]);
        expect(ids((await store.list({ limit: 100, session: "one", direction: "outbound", status: "sent" })).items)).toEqual([a.id]);
      });

      it("pages with a cursor over several pages without duplicates or gaps", async () => {
        const created: string[] = [];
        for (let i = 0; i < 23; i++) created.push((await enqueue({ to: i % 2 ? ALICE : BOB })).id);
        const seen: string[] = [];
        const sizes: number[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.list({ limit: 10, ...(cursor ? { cursor } : {}) });
          seen.push(...ids(page.items));
          sizes.push(page.items.length);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(sizes).toEqual([10, 10, 3]);
        expect(seen).toEqual([...created].reverse());
      });

      it("says there is no next page when the last page is exactly full", async () => {
        for (let i = 0; i < 4; i++) await enqueue();
        const first = await store.list({ limit: 2 });
        expect(first.nextCursor).not.toBeNull();
        const second = await store.list({ limit: 2, cursor: first.nextCursor! });
        expect(second.items).toHaveLength(2);
        expect(second.nextCursor).toBeNull();
      });

      it("keeps filters across pages", async () => {
        for (let i = 0; i < 5; i++) {
          await enqueue({ session: "one" });
          await enqueue({ session: "two" });
        }
        const first = await store.list({ limit: 3, session: "two" });
        const second = await store.list({ limit: 3, session: "two", cursor: first.nextCursor! });
        expect([...first.items, ...second.items].map((m) => m.session)).toEqual(Array(5).fill("two"));
        expect(second.nextCursor).toBeNull();
      });

      it("rejects a cursor it did not issue", async () => {
        await expect(store.list({ limit: 10, cursor: "not a cursor!" })).rejects.toBeInstanceOf(DomainError);
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
        expect(ids(await store.claim({ provider: "baileys", session: "s2" }, 10, 30_000, t(1)))).toEqual([otherSession.id]);
        expect(ids(await store.claim({ provider: "twilio", session: "s1" }, 10, 30_000, t(1)))).toEqual([otherProvider.id]);
        expect(await store.claim({ provider: "twilio", session: "s2" }, 10, 30_000, t(1))).toEqual([]);
      });
    });

    describe("lifecycle", () => {
      it("answers ping while open and refuses work once closed", async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        await store.close();
        await expect(store.get("x")).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
        await expect(store.enqueue(anOutbound())).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
      });
    });
  });
}
