import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.ts";
import type { Message } from "../../src/domain/message.ts";
import type { Page } from "../../src/domain/ports/message-store.port.ts";
import { anInbound, ids, ROUTE, t, type ContractContext } from "./message-store.fixtures.ts";

/** Part of the MessageStore contract: messages by their last change (the webhook catch-up reads these). */
export function changeCases(h: ContractContext): void {
  describe("changedSince", () => {
    async function all(since: Date, limit: number): Promise<Message[]> {
      const out: Message[] = [];
      let page: Page<Message> | undefined;
      do {
        page = await h.store.changedSince(since, limit, page?.nextCursor ?? undefined);
        out.push(...page.items);
      } while (page.nextCursor);
      return out;
    }

    it("lists messages changed at or after a moment, oldest change first, whenever they were accepted", async () => {
      const old = await h.enqueue({ at: t(0) });
      const quiet = await h.enqueue({ at: t(5) });
      await h.store.claim(ROUTE, 1, 30_000, t(10));
      await h.store.recordAttempt(old.id, { kind: "sent", providerMessageId: "wamid.C1" }, t(20));
      const inbound = (await h.store.recordInbound(anInbound({ at: t(15) }))).message;

      expect(ids((await h.store.changedSince(t(11), 10)).items)).toEqual([inbound.id, old.id]);
      expect(ids((await h.store.changedSince(t(5), 10)).items)).toEqual([quiet.id, inbound.id, old.id]);
      expect((await h.store.changedSince(t(21), 10)).items).toEqual([]);
      const changed = (await h.store.changedSince(t(20), 10)).items;
      expect(changed).toEqual([await h.store.get(old.id)]);
    });

    it("pages through changes made in the same millisecond without losing or repeating one", async () => {
      const made: Message[] = [];
      for (let i = 0; i < 7; i++) made.push(await h.enqueue({ at: t(i < 4 ? 100 : 101) }));
      const page = await h.store.changedSince(t(0), 3);
      expect(page.items).toHaveLength(3);
      expect(page.nextCursor).not.toBeNull();
      expect(ids(await all(t(0), 3))).toEqual(ids(made));
      expect(ids(await all(t(101), 2))).toEqual(ids(made.slice(4)));
    });

    it("refuses a cursor it did not make", async () => {
      await expect(h.store.changedSince(t(0), 10, "bm90LWEtY3Vyc29y")).rejects.toSatisfy(
        (e) => e instanceof DomainError && e.code === "REQUEST.INVALID",
      );
    });
  });
}
