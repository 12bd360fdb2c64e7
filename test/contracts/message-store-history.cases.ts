import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.ts";
import type { Message } from "../../src/domain/message.ts";
import {
  anInbound,
  BOB,
  ids,
  iso,
  REJECTED,
  ROUTE,
  ALICE,
  statuses,
  t,
  anOutbound,
  type ContractContext,
} from "./message-store.fixtures.ts";

/** Part of the MessageStore contract: provider status reports, inbound messages, listing, lifecycle. */
export function historyCases(h: ContractContext): void {
  describe("applyStatus", () => {
    async function sentMessage(providerMessageId: string, provider = ROUTE.provider): Promise<Message> {
      const m = await h.enqueue({ provider });
      await h.store.claim({ provider, session: ROUTE.session }, 1, 30_000, t(1));
      return h.store.recordAttempt(m.id, { kind: "sent", providerMessageId }, t(2));
    }

    it("matches by provider message id and moves forward", async () => {
      const m = await sentMessage("wamid.A");
      const delivered = await h.store.applyStatus(
        { provider: ROUTE.provider, providerMessageId: "wamid.A", status: "delivered" },
        t(3),
      );
      expect(delivered?.message).toMatchObject({ id: m.id, status: "delivered", updatedAt: iso(3) });
      expect(delivered?.reached).toEqual(["delivered"]);
      expect(statuses(delivered?.message)).toEqual(["queued", "sending", "sent", "delivered"]);
      expect((await h.store.get(m.id))?.status).toBe("delivered");
    });

    it("records the statuses a report implies: read without a delivery receipt passes delivered", async () => {
      const m = await sentMessage("wamid.R");
      const read = await h.store.applyStatus(
        { provider: ROUTE.provider, providerMessageId: "wamid.R", status: "read" },
        t(3),
      );
      expect(read?.reached).toEqual(["delivered", "read"]);
      expect(read?.message.history).toEqual([
        { status: "queued", at: iso(0) },
        { status: "sending", at: iso(1) },
        { status: "sent", at: iso(2) },
        { status: "delivered", at: iso(3) },
        { status: "read", at: iso(3) },
      ]);
      expect(read?.message.id).toBe(m.id);
    });

    it("matches by our message id", async () => {
      const m = await sentMessage("wamid.B");
      const read = await h.store.applyStatus({ provider: ROUTE.provider, messageId: m.id, status: "read" }, t(3));
      expect(read?.message.status).toBe("read");
    });

    it("does not match another provider's message id", async () => {
      await sentMessage("shared-id", "twilio");
      expect(
        await h.store.applyStatus({ provider: "baileys", providerMessageId: "shared-id", status: "delivered" }, t(3)),
      ).toBeUndefined();
    });

    it("never moves backwards: delivered then sent stays delivered", async () => {
      const m = await sentMessage("wamid.C");
      await h.store.applyStatus({ provider: ROUTE.provider, providerMessageId: "wamid.C", status: "delivered" }, t(3));
      const late = await h.store.applyStatus(
        { provider: ROUTE.provider, providerMessageId: "wamid.C", status: "sent" },
        t(4),
      );
      expect(late?.message.status).toBe("delivered");
      expect(late?.reached).toEqual([]);
      expect((await h.store.get(m.id))?.status).toBe("delivered");
      expect(statuses(await h.store.get(m.id))).toEqual(["queued", "sending", "sent", "delivered"]);
    });

    it("changes nothing, and reaches nothing, on the same report again", async () => {
      const m = await sentMessage("wamid.twice");
      await h.store.applyStatus(
        { provider: ROUTE.provider, providerMessageId: "wamid.twice", status: "delivered" },
        t(3),
      );
      const again = await h.store.applyStatus(
        { provider: ROUTE.provider, providerMessageId: "wamid.twice", status: "delivered" },
        t(4),
      );
      expect(again?.reached).toEqual([]);
      expect(again?.message.updatedAt).toBe(iso(3));
      expect(statuses(await h.store.get(m.id))).toEqual(["queued", "sending", "sent", "delivered"]);
    });

    it("never moves backwards: read then delivered stays read", async () => {
      const m = await sentMessage("wamid.D");
      await h.store.applyStatus({ provider: ROUTE.provider, providerMessageId: "wamid.D", status: "read" }, t(3));
      await h.store.applyStatus({ provider: ROUTE.provider, providerMessageId: "wamid.D", status: "delivered" }, t(4));
      expect((await h.store.get(m.id))?.status).toBe("read");
    });

    it("keeps a failure and its error", async () => {
      const m = await sentMessage("wamid.E");
      const failed = await h.store.applyStatus(
        { provider: ROUTE.provider, providerMessageId: "wamid.E", status: "failed", error: REJECTED },
        t(3),
      );
      expect(failed?.message).toMatchObject({ status: "failed", error: REJECTED });
      await h.store.applyStatus({ provider: ROUTE.provider, providerMessageId: "wamid.E", status: "delivered" }, t(4));
      expect(await h.store.get(m.id)).toMatchObject({ status: "failed", error: REJECTED });
    });

    it("returns undefined when nothing matches", async () => {
      expect(
        await h.store.applyStatus({ provider: "baileys", providerMessageId: "unknown", status: "read" }, t(1)),
      ).toBeUndefined();
      expect(
        await h.store.applyStatus({ provider: "baileys", messageId: "unknown", status: "read" }, t(1)),
      ).toBeUndefined();
    });

    it("lets a recipient's next message go once the first fails by a status report", async () => {
      const a1 = await h.enqueue({ to: ALICE });
      const a2 = await h.enqueue({ to: ALICE });
      await h.store.claim(ROUTE, 10, 30_000, t(1));
      await h.store.applyStatus(
        { provider: ROUTE.provider, messageId: a1.id, status: "failed", error: REJECTED },
        t(2),
      );
      expect(ids(await h.store.claim(ROUTE, 10, 30_000, t(3)))).toEqual([a2.id]);
    });
  });

  describe("recordInbound", () => {
    it("records once and returns the first on redelivery", async () => {
      const input = anInbound({ providerMessageId: "wa-in-1", at: t(5) });
      const first = await h.store.recordInbound(input);
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
      const again = await h.store.recordInbound(anInbound({ providerMessageId: "wa-in-1" }));
      expect(again).toEqual({ message: first.message, created: false });
      expect(await h.store.get(input.id)).toEqual(first.message);
      expect((await h.store.list({ limit: 100, direction: "inbound" })).items).toHaveLength(1);
    });

    it("dedupes per provider: the same id from another provider is another message", async () => {
      await h.store.recordInbound(anInbound({ providerMessageId: "same" }));
      const other = await h.store.recordInbound(anInbound({ providerMessageId: "same", provider: "twilio" }));
      expect(other.created).toBe(true);
    });
  });

  describe("list", () => {
    it("filters by direction, status and session, newest first", async () => {
      const a = await h.enqueue({ session: "one" });
      const b = await h.enqueue({ session: "two" });
      const c = await h.enqueue({ session: "one", to: BOB });
      const inbound = (await h.store.recordInbound(anInbound({ session: "one" }))).message;
      await h.store.claim({ provider: ROUTE.provider, session: "one" }, 10, 30_000, t(1));
      await h.store.recordAttempt(a.id, { kind: "sent", providerMessageId: "p" }, t(2));

      const all = await h.store.list({ limit: 100 });
      expect(ids(all.items)).toEqual([inbound.id, c.id, b.id, a.id]);
      expect(all.nextCursor).toBeNull();
      expect(ids((await h.store.list({ limit: 100, direction: "outbound" })).items)).toEqual([c.id, b.id, a.id]);
      expect(ids((await h.store.list({ limit: 100, direction: "inbound" })).items)).toEqual([inbound.id]);
      expect(ids((await h.store.list({ limit: 100, status: "sending" })).items)).toEqual([c.id]);
      expect(ids((await h.store.list({ limit: 100, status: "queued" })).items)).toEqual([b.id]);
      expect(ids((await h.store.list({ limit: 100, session: "one" })).items)).toEqual([inbound.id, c.id, a.id]);
      expect(
        ids((await h.store.list({ limit: 100, session: "one", direction: "outbound", status: "sent" })).items),
      ).toEqual([a.id]);
    });

    it("pages with a cursor over several pages without duplicates or gaps", async () => {
      const created: string[] = [];
      for (let i = 0; i < 23; i++) created.push((await h.enqueue({ to: i % 2 ? ALICE : BOB })).id);
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await h.store.list({ limit: 10, ...(cursor ? { cursor } : {}) });
        seen.push(...ids(page.items));
        sizes.push(page.items.length);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(sizes).toEqual([10, 10, 3]);
      expect(seen).toEqual([...created].reverse());
    });

    it("says there is no next page when the last page is exactly full", async () => {
      for (let i = 0; i < 4; i++) await h.enqueue();
      const first = await h.store.list({ limit: 2 });
      expect(first.nextCursor).not.toBeNull();
      const second = await h.store.list({ limit: 2, cursor: first.nextCursor! });
      expect(second.items).toHaveLength(2);
      expect(second.nextCursor).toBeNull();
    });

    it("keeps filters across pages", async () => {
      for (let i = 0; i < 5; i++) {
        await h.enqueue({ session: "one" });
        await h.enqueue({ session: "two" });
      }
      const first = await h.store.list({ limit: 3, session: "two" });
      const second = await h.store.list({ limit: 3, session: "two", cursor: first.nextCursor! });
      expect([...first.items, ...second.items].map((m) => m.session)).toEqual(Array(5).fill("two"));
      expect(second.nextCursor).toBeNull();
    });

    it("rejects a cursor it did not issue", async () => {
      await expect(h.store.list({ limit: 10, cursor: "not a cursor!" })).rejects.toBeInstanceOf(DomainError);
    });
  });

  describe("lifecycle", () => {
    it("answers ping while open and refuses work once closed", async () => {
      await expect(h.store.ping()).resolves.toBeUndefined();
      await h.store.close();
      await expect(h.store.get("x")).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
      await expect(h.store.enqueue(anOutbound())).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
    });
  });
}
