import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.ts";
import type { WebhookOutbox } from "../../src/domain/ports/webhook-outbox.port.ts";
import type { NewWebhookDelivery } from "../../src/domain/webhook-delivery.ts";

export interface OutboxHarness {
  readonly outbox: WebhookOutbox;
  cleanup(): Promise<void>;
}

const T0 = new Date("2030-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(T0.getTime() + ms);
let counter = 0;

/** A test delivery ("mother"): unique ids, ordered by `key`. */
export function aDelivery(key = "message:m1", overrides: Partial<NewWebhookDelivery> = {}): NewWebhookDelivery {
  counter++;
  return {
    id: `whd_${counter}`,
    eventId: `evt_${counter}`,
    type: "message.status",
    orderingKey: key,
    body: JSON.stringify({ type: "message.status", timestamp: T0.toISOString(), data: { n: counter } }),
    at: T0,
    ...overrides,
  };
}

/** The one contract every WebhookOutbox adapter passes. */
export function webhookOutboxContract(name: string, open: () => Promise<OutboxHarness>): void {
  describe(`WebhookOutbox contract: ${name}`, () => {
    let h: OutboxHarness;
    let outbox: WebhookOutbox;
    beforeEach(async () => {
      h = await open();
      outbox = h.outbox;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it("enqueues a pending delivery, due now, with its body kept byte for byte", async () => {
      const input = aDelivery("message:a", { body: '{"type":"message.inbound","data":{"text":"héllo ✓ \\u0000"}}' });
      const stored = await outbox.enqueue(input);
      expect(stored).toMatchObject({
        id: input.id,
        eventId: input.eventId,
        type: "message.status",
        status: "pending",
        attempts: 0,
        lastError: null,
      });
      expect(stored.nextAttemptAt).toBe(T0.toISOString());
      expect((await outbox.get(input.id))?.body).toBe(input.body);
      expect(await outbox.get("whd_nope")).toBeUndefined();
    });

    it("claims due deliveries oldest first and leases them until the lease runs out", async () => {
      const a = await outbox.enqueue(aDelivery("message:a"));
      const b = await outbox.enqueue(aDelivery("message:b"));
      expect((await outbox.claimDue(10, 1000, at(0))).map((d) => d.id)).toEqual([a.id, b.id]);
      expect(await outbox.claimDue(10, 1000, at(999))).toEqual([]);
      expect((await outbox.claimDue(10, 1000, at(1000))).map((d) => d.id)).toEqual([a.id, b.id]);
    });

    it("honours the limit", async () => {
      for (let i = 0; i < 5; i++) await outbox.enqueue(aDelivery(`message:${i}`));
      expect(await outbox.claimDue(2, 1000, at(0))).toHaveLength(2);
      expect(await outbox.claimDue(0, 1000, at(0))).toEqual([]);
    });

    it("hands out one delivery per ordering key at a time, in enqueue order, and holds the key while it waits to retry", async () => {
      const first = await outbox.enqueue(aDelivery("message:x"));
      const second = await outbox.enqueue(aDelivery("message:x"));
      const other = await outbox.enqueue(aDelivery("session:baileys:default"));
      expect((await outbox.claimDue(10, 60_000, at(0))).map((d) => d.id)).toEqual([first.id, other.id]);
      await outbox.recordFailure(first.id, { kind: "retry", error: "HTTP 500", nextAttemptAt: at(5000) }, at(10));
      expect(await outbox.claimDue(10, 60_000, at(100))).toEqual([]);
      expect(await outbox.nextDueAt()).toEqual(at(5000));
      expect((await outbox.claimDue(10, 60_000, at(5000))).map((d) => d.id)).toEqual([first.id]);
      await outbox.recordSuccess(first.id, at(5001));
      expect((await outbox.claimDue(10, 60_000, at(5002))).map((d) => d.id)).toEqual([second.id]);
    });

    it("records a failure with its error and attempt count; parking frees the key for the next delivery", async () => {
      const first = await outbox.enqueue(aDelivery("message:p"));
      const second = await outbox.enqueue(aDelivery("message:p"));
      await outbox.claimDue(1, 1000, at(0));
      const retried = await outbox.recordFailure(
        first.id,
        { kind: "retry", error: "timed out", nextAttemptAt: at(50) },
        at(1),
      );
      expect(retried).toMatchObject({
        status: "pending",
        attempts: 1,
        lastError: "timed out",
        nextAttemptAt: at(50).toISOString(),
      });
      await outbox.claimDue(1, 1000, at(50));
      const parked = await outbox.recordFailure(first.id, { kind: "park", error: "HTTP 503" }, at(60));
      expect(parked).toMatchObject({ status: "failed", attempts: 2, lastError: "HTTP 503", nextAttemptAt: null });
      expect((await outbox.claimDue(10, 1000, at(61))).map((d) => d.id)).toEqual([second.id]);
    });

    it("records a success and counts the attempt", async () => {
      const d = await outbox.enqueue(aDelivery("message:s"));
      await outbox.claimDue(1, 1000, at(0));
      const done = await outbox.recordSuccess(d.id, at(20));
      expect(done).toMatchObject({
        status: "delivered",
        attempts: 1,
        nextAttemptAt: null,
        updatedAt: at(20).toISOString(),
      });
      expect(await outbox.claimDue(10, 1000, at(10_000))).toEqual([]);
      expect(await outbox.nextDueAt()).toBeUndefined();
    });

    it("rejects outcomes for an unknown delivery with WEBHOOK.DELIVERY_NOT_FOUND", async () => {
      await expect(outbox.recordSuccess("whd_nope", at(0))).rejects.toMatchObject({
        code: "WEBHOOK.DELIVERY_NOT_FOUND",
      });
      await expect(outbox.recordFailure("whd_nope", { kind: "park", error: "x" }, at(0))).rejects.toBeInstanceOf(
        DomainError,
      );
    });

    it("replays only a parked delivery: same event id and body, attempts reset, due now", async () => {
      const d = await outbox.enqueue(aDelivery("message:r"));
      expect(await outbox.retry(d.id, at(1))).toMatchObject({ kind: "not_parked", delivery: { status: "pending" } });
      expect(await outbox.retry("whd_nope", at(1))).toEqual({ kind: "not_found" });
      await outbox.claimDue(1, 1000, at(0));
      await outbox.recordFailure(d.id, { kind: "park", error: "HTTP 500" }, at(2));
      const replayed = await outbox.retry(d.id, at(3));
      expect(replayed).toMatchObject({
        kind: "requeued",
        delivery: { id: d.id, eventId: d.eventId, status: "pending", attempts: 0, lastError: "HTTP 500" },
      });
      const [claimed] = await outbox.claimDue(1, 1000, at(3));
      expect(claimed?.body).toBe(d.body);
      await outbox.recordSuccess(d.id, at(4));
      expect(await outbox.retry(d.id, at(5))).toMatchObject({ kind: "not_parked", delivery: { status: "delivered" } });
    });

    it("sends a replayed delivery before the later ones of its key still pending", async () => {
      const first = await outbox.enqueue(aDelivery("message:replay-order"));
      const second = await outbox.enqueue(aDelivery("message:replay-order"));
      await outbox.claimDue(10, 1000, at(0));
      await outbox.recordFailure(first.id, { kind: "park", error: "HTTP 500" }, at(1));
      expect(await outbox.retry(first.id, at(2))).toMatchObject({ kind: "requeued" });
      expect((await outbox.claimDue(10, 1000, at(2))).map((d) => d.id)).toEqual([first.id]);
      await outbox.recordSuccess(first.id, at(3));
      expect((await outbox.claimDue(10, 1000, at(3))).map((d) => d.id)).toEqual([second.id]);
    });

    it("requeueInFlight releases every lease so a new process delivers at once", async () => {
      await outbox.enqueue(aDelivery("message:l1"));
      await outbox.enqueue(aDelivery("message:l2"));
      await outbox.claimDue(10, 3_600_000, at(0));
      expect(await outbox.claimDue(10, 1000, at(1))).toEqual([]);
      expect(await outbox.requeueInFlight(at(1))).toBe(2);
      expect(await outbox.claimDue(10, 1000, at(1))).toHaveLength(2);
    });

    it("lists newest first, by status, in pages joined by a cursor", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await outbox.enqueue(aDelivery(`message:list${i}`))).id);
      await outbox.claimDue(10, 1000, at(0));
      await outbox.recordFailure(ids[1]!, { kind: "park", error: "e" }, at(1));
      await outbox.recordFailure(ids[3]!, { kind: "park", error: "e" }, at(1));
      await outbox.recordSuccess(ids[0]!, at(1));
      const first = await outbox.list({ limit: 2 });
      expect(first.items.map((d) => d.id)).toEqual([ids[4], ids[3]]);
      const second = await outbox.list({ limit: 2, cursor: first.nextCursor! });
      expect(second.items.map((d) => d.id)).toEqual([ids[2], ids[1]]);
      const third = await outbox.list({ limit: 2, cursor: second.nextCursor! });
      expect(third).toEqual({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
      expect((await outbox.list({ status: "failed", limit: 10 })).items.map((d) => d.id)).toEqual([ids[3], ids[1]]);
      expect((await outbox.list({ status: "delivered", limit: 10 })).items.map((d) => d.id)).toEqual([ids[0]]);
      expect((await outbox.list({ status: "pending", limit: 10 })).items.map((d) => d.id)).toEqual([ids[4], ids[2]]);
      await expect(outbox.list({ limit: 1, cursor: "bm9wZQ" })).rejects.toMatchObject({ code: "REQUEST.INVALID" });
    });

    it("purges delivered deliveries older than the cut-off, and only those", async () => {
      const old = await outbox.enqueue(aDelivery("message:o"));
      const parked = await outbox.enqueue(aDelivery("message:q"));
      const recent = await outbox.enqueue(aDelivery("message:n"));
      await outbox.claimDue(10, 1000, at(0));
      await outbox.recordSuccess(old.id, at(10));
      await outbox.recordFailure(parked.id, { kind: "park", error: "e" }, at(10));
      await outbox.recordSuccess(recent.id, at(1000));
      expect(await outbox.purgeDelivered(at(500), 100)).toBe(1);
      expect(await outbox.get(old.id)).toBeUndefined();
      expect(await outbox.get(parked.id)).toBeDefined();
      expect(await outbox.get(recent.id)).toBeDefined();
    });

    it("gives the body of the newest delivery of each ordering key, whatever its status", async () => {
      const first = await outbox.enqueue(aDelivery("message:a"));
      const newest = await outbox.enqueue(aDelivery("message:a"));
      const other = await outbox.enqueue(aDelivery("message:b"));
      await outbox.claimDue(10, 1000, at(0));
      await outbox.recordSuccess(newest.id, at(1));
      const bodies = await outbox.latestBodies(["message:a", "message:b", "message:none", "message:a"]);
      expect(bodies).toEqual(
        new Map([
          ["message:a", newest.body],
          ["message:b", other.body],
        ]),
      );
      expect(bodies.get("message:a")).not.toBe(first.body);
      expect(await outbox.latestBodies([])).toEqual(new Map());
    });

    it("keeps when it was created and when its newest delivery was enqueued, also once that one is purged", async () => {
      const fresh = await outbox.timeline();
      expect(fresh.lastEnqueuedAt).toBeUndefined();
      expect(fresh.createdAt).toBeInstanceOf(Date);
      await outbox.enqueue(aDelivery("message:a", { at: at(100) }));
      const newest = await outbox.enqueue(aDelivery("message:b", { at: at(200) }));
      expect(await outbox.timeline()).toEqual({ createdAt: fresh.createdAt, lastEnqueuedAt: at(200) });
      await outbox.claimDue(10, 1000, at(300));
      await outbox.recordSuccess(newest.id, at(300));
      expect(await outbox.purgeDelivered(at(400), 10)).toBe(1);
      expect(await outbox.timeline()).toEqual({ createdAt: fresh.createdAt, lastEnqueuedAt: at(200) });
    });
  });
}
