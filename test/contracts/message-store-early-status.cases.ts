import { describe, expect, it } from "vitest";
import type { Message, NewOutboundMessage } from "../../src/domain/message.ts";
import type { ProviderStatus } from "../../src/domain/message-status.ts";
import type { MessageStore } from "../../src/domain/ports/message-store.port.ts";
import { enqueueCreated, REJECTED, ROUTE, statuses, t, type ContractContext } from "./message-store.fixtures.ts";

const DAY = 24 * 60 * 60 * 1000;

/**
 * Part of the MessageStore contract: a status report that arrives before
 * recordAttempt stored the provider id it names (a receipt beating the send's
 * acknowledgement) is kept and applied when that id is recorded.
 */
export function earlyStatusCases(h: ContractContext): void {
  describe("applyStatus before the provider id is recorded", () => {
    let recipient = 0;
    /** A message claimed and in flight, alone to its recipient so claim hands it out at once. */
    async function inFlight(
      store: MessageStore = h.store,
      overrides: Partial<NewOutboundMessage> = {},
    ): Promise<Message> {
      recipient += 1;
      const m = await enqueueCreated(store, {
        to: `whatsapp:+4070100${String(recipient).padStart(4, "0")}`,
        ...overrides,
      });
      const claimed = await store.claim({ provider: m.provider, session: m.session }, 100, 60_000, t(1));
      expect(claimed.map((c) => c.id)).toContain(m.id);
      return m;
    }
    const report = (
      providerMessageId: string,
      status: ProviderStatus,
      at: number,
      store: MessageStore = h.store,
      provider = ROUTE.provider,
    ): Promise<Message | undefined> =>
      store.applyStatus({ provider, providerMessageId, status }, t(at)).then((applied) => applied?.message);
    const sent = (store: MessageStore, m: Message, providerMessageId: string, at: number): Promise<Message> =>
      store.recordAttempt(m.id, { kind: "sent", providerMessageId }, t(at));

    it("keeps a receipt that matches no message and applies it when recordAttempt(sent) records the id", async () => {
      const m = await inFlight();
      expect(await report("wamid.early", "delivered", 2)).toBeUndefined();
      expect((await h.store.get(m.id))?.status).toBe("sending");

      const recorded = await sent(h.store, m, "wamid.early", 3);
      expect(recorded).toMatchObject({ status: "delivered", providerMessageId: "wamid.early", attempts: 1 });
      expect(statuses(recorded)).toEqual(["queued", "sending", "sent", "delivered"]);
      expect(await h.store.get(m.id)).toEqual(recorded);
    });

    it("forgets a kept report once applied", async () => {
      const first = await inFlight();
      await report("reused", "delivered", 2);
      expect((await sent(h.store, first, "reused", 3)).status).toBe("delivered");
      const second = await inFlight();
      expect((await sent(h.store, second, "reused", 4)).status).toBe("sent");
    });

    it("applies several kept reports in the order reported: delivered then read ends read", async () => {
      const m = await inFlight();
      await report("wamid.two", "delivered", 2);
      await report("wamid.two", "read", 3);
      const recorded = await sent(h.store, m, "wamid.two", 4);
      expect(recorded.status).toBe("read");
      expect(statuses(recorded)).toEqual(["queued", "sending", "sent", "delivered", "read"]);
    });

    it("never moves backwards while applying them: read then delivered ends read", async () => {
      const m = await inFlight();
      await report("wamid.rev", "read", 2);
      await report("wamid.rev", "delivered", 3);
      const recorded = await sent(h.store, m, "wamid.rev", 4);
      expect(recorded.status).toBe("read");
      // Read implies delivered: the history has it once, where read was applied.
      expect(statuses(recorded)).toEqual(["queued", "sending", "sent", "delivered", "read"]);
    });

    it("applies a kept failure with its error, since a sent message may still fail", async () => {
      const m = await inFlight();
      await h.store.applyStatus(
        { provider: ROUTE.provider, providerMessageId: "wamid.fail", status: "failed", error: REJECTED },
        t(2),
      );
      const recorded = await sent(h.store, m, "wamid.fail", 3);
      expect(recorded).toMatchObject({ status: "failed", error: REJECTED });
      expect(statuses(recorded)).toEqual(["queued", "sending", "sent", "failed"]);
    });

    it("does not apply a kept report the attempt's own status has passed", async () => {
      const m = await inFlight();
      await report("SM-early", "sent", 2);
      await report("SM-early", "delivered", 3);
      const recorded = await h.store.recordAttempt(
        m.id,
        { kind: "sent", providerMessageId: "SM-early", status: "read" },
        t(4),
      );
      expect(recorded.status).toBe("read");
      // The kept sent and delivered are not applied again; read implies them once.
      expect(statuses(recorded)).toEqual(["queued", "sending", "sent", "delivered", "read"]);
    });

    it("does not apply another provider's report for the same id", async () => {
      const m = await inFlight();
      expect(await report("shared", "delivered", 2, h.store, "twilio")).toBeUndefined();
      expect((await sent(h.store, m, "shared", 3)).status).toBe("sent");
    });

    it("does not keep a report that names only our message id", async () => {
      expect(
        await h.store.applyStatus({ provider: ROUTE.provider, messageId: "not-yet", status: "read" }, t(0)),
      ).toBeUndefined();
      const m = await inFlight(h.store, { id: "not-yet" });
      expect((await sent(h.store, m, "wamid.late", 2)).status).toBe("sent");
    });

    it("does not apply a report older than the default 24 h retention", async () => {
      const fresh = await inFlight();
      const stale = await inFlight();
      await report("wamid.fresh", "delivered", 10);
      await report("wamid.stale", "delivered", 10);
      expect((await sent(h.store, fresh, "wamid.fresh", 10 + DAY - 1)).status).toBe("delivered");
      expect((await sent(h.store, stale, "wamid.stale", 10 + DAY + 1)).status).toBe("sent");
    });

    it("takes the retention from the store's settings", async () => {
      const store = await h.open({ earlyStatusRetentionMs: 1_000 });
      const kept = await inFlight(store);
      const expired = await inFlight(store);
      await report("p-kept", "read", 100, store);
      await report("p-expired", "read", 100, store);
      expect((await sent(store, kept, "p-kept", 1_099)).status).toBe("read");
      expect((await sent(store, expired, "p-expired", 1_101)).status).toBe("sent");
    });

    it("keeps at most the configured number of reports, dropping the oldest", async () => {
      const store = await h.open({ maxEarlyStatuses: 3 });
      for (let i = 1; i <= 5; i++) await report(`p${i}`, "delivered", i, store);
      const outcomes: string[] = [];
      for (let i = 1; i <= 5; i++) outcomes.push((await sent(store, await inFlight(store), `p${i}`, 10 + i)).status);
      expect(outcomes).toEqual(["sent", "sent", "delivered", "delivered", "delivered"]);
    });
  });
}
