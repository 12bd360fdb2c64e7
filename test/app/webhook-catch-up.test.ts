import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteWebhookOutbox } from "../../src/adapters/webhook-outbox/sqlite/sqlite.webhook-outbox.ts";
import type { Message } from "../../src/domain/message.ts";
import { catchUpWebhooks, CATCH_UP_MARGIN_MS, missedEvent } from "../../src/app/webhooks/webhook-catch-up.ts";
import { newDelivery } from "../../src/app/webhooks/webhook-event.ts";
import { anInbound, anOutbound } from "../contracts/message-store.fixtures.ts";
import { MemoryMessageStore } from "../fakes/memory-message-store.ts";
import { tempDir } from "../support/temp-dir.ts";

// The outbox counts as created when it is first opened (now), so the
// messages here change after that.
const ROUTE = { provider: "baileys", session: "main" };

describe("webhook catch-up after a crash", () => {
  let messages: MemoryMessageStore;
  let outbox: SqliteWebhookOutbox;
  let remove: () => Promise<void>;
  let clock: number;
  const now = (): Date => new Date(clock);
  const tick = (ms = 10): Date => new Date((clock += ms));

  beforeEach(async () => {
    const dir = await tempDir("catch-up-");
    remove = dir.remove;
    messages = new MemoryMessageStore();
    outbox = new SqliteWebhookOutbox({ path: join(dir.path, "webhooks.db"), synchronous: "normal" });
    clock = Date.now() + 1_000;
  });
  afterEach(async () => {
    await outbox.close();
    await remove();
  });

  async function sent(providerMessageId: string): Promise<Message> {
    const m = (await messages.enqueue(anOutbound({ ...ROUTE, at: now() }))) as { message: Message };
    await messages.claim(ROUTE, 1, 30_000, tick());
    return messages.recordAttempt(m.message.id, { kind: "sent", providerMessageId }, tick());
  }

  /** What the worker does when the event is published (the step a crash can cut). */
  async function announce(
    message: Message,
    type: "message.status" | "message.inbound" = "message.status",
  ): Promise<void> {
    const event = type === "message.status" ? { type, message, reached: [message.status] } : { type, message };
    await outbox.enqueue(newDelivery(event, new Date(message.updatedAt)));
  }

  async function queuedEvents(): Promise<Array<{ type: string; status: unknown; id: unknown; timestamp: unknown }>> {
    const page = await outbox.list({ limit: 1000 });
    return page.items
      .map((d) => ({
        type: d.type,
        ...(JSON.parse(d.body) as { timestamp: string; data: { id: string; status: string } }),
      }))
      .reverse()
      .map((b) => ({ type: b.type, status: b.data.status, id: b.data.id, timestamp: b.timestamp }));
  }

  it("queues the event of a change whose event was lost, with the message as it is, once", async () => {
    const announced = await sent("wa-1");
    await announce(announced);
    const lost = await sent("wa-2");
    const delivered = (await messages.applyStatus(
      { provider: ROUTE.provider, providerMessageId: "wa-1", status: "delivered" },
      tick(),
    ))!.message;

    const caughtUpAt = tick();
    expect(await catchUpWebhooks(messages, outbox, caughtUpAt)).toBe(2);
    const [newest] = (await outbox.list({ limit: 1 })).items;
    expect(newest!.createdAt).toBe(caughtUpAt.toISOString());
    expect(await queuedEvents()).toEqual([
      { type: "message.status", status: "sent", id: announced.id, timestamp: announced.updatedAt },
      { type: "message.status", status: "sent", id: lost.id, timestamp: lost.updatedAt },
      { type: "message.status", status: "delivered", id: announced.id, timestamp: delivered.updatedAt },
    ]);
    expect(await catchUpWebhooks(messages, outbox, tick())).toBe(0);
  });

  it("queues nothing when every change has its event, nor for messages still queued or in flight", async () => {
    const m = await sent("wa-1");
    await announce(m);
    await messages.enqueue(anOutbound({ ...ROUTE, to: "whatsapp:+40700000009", at: tick() }));
    await messages.enqueue(anOutbound({ ...ROUTE, to: "whatsapp:+40700000008", at: tick() }));
    await messages.claim(ROUTE, 1, 30_000, tick());
    const inbound = (await messages.recordInbound(anInbound({ ...ROUTE, at: tick() }))).message;
    await announce(inbound, "message.inbound");

    expect(await catchUpWebhooks(messages, outbox, tick())).toBe(0);
  });

  it("announces an inbound message that was never announced", async () => {
    const inbound = (await messages.recordInbound(anInbound({ ...ROUTE, at: tick() }))).message;
    expect(await catchUpWebhooks(messages, outbox, tick())).toBe(1);
    expect(await queuedEvents()).toEqual([
      { type: "message.inbound", status: "received", id: inbound.id, timestamp: inbound.updatedAt },
    ]);
  });

  it("looks back only a margin before the newest queued event, and never before the outbox existed", async () => {
    const { createdAt } = await outbox.timeline();
    const before = (await messages.recordInbound(anInbound({ ...ROUTE, at: new Date(createdAt.getTime() - 1) })))
      .message;
    clock = createdAt.getTime() + 10 * CATCH_UP_MARGIN_MS;
    const old = (await messages.recordInbound(anInbound({ ...ROUTE, at: now() }))).message;
    const inMargin = (await messages.recordInbound(anInbound({ ...ROUTE, at: tick(CATCH_UP_MARGIN_MS + 1) }))).message;
    const last = (await messages.recordInbound(anInbound({ ...ROUTE, at: tick(CATCH_UP_MARGIN_MS - 2) }))).message;
    await announce(last, "message.inbound");

    expect(await catchUpWebhooks(messages, outbox, tick())).toBe(1);
    const ids = (await queuedEvents()).map((e) => e.id);
    expect(ids).toEqual([last.id, inMargin.id]);
    expect(ids).not.toContain(old.id);
    expect(ids).not.toContain(before.id);
  });

  it("reads every changed message, page after page", async () => {
    for (let i = 0; i < 1_201; i++) await messages.recordInbound(anInbound({ ...ROUTE, at: tick(1) }));
    expect(await catchUpWebhooks(messages, outbox, tick())).toBe(1_201);
    expect(await catchUpWebhooks(messages, outbox, tick())).toBe(0);
  });
});

describe("missedEvent", () => {
  const message = (status: Message["status"], direction: Message["direction"] = "outbound"): Message =>
    ({ id: "m", status, direction, updatedAt: new Date(0).toISOString() }) as Message;
  const body = (status: string): string => JSON.stringify({ type: "message.status", timestamp: "", data: { status } });

  it("owes an event when the newest one announced another status, or none, or cannot be read", () => {
    expect(missedEvent(message("read"), body("delivered"))).toMatchObject({
      type: "message.status",
      reached: ["read"],
    });
    expect(missedEvent(message("failed"), undefined)).toMatchObject({ type: "message.status" });
    expect(missedEvent(message("sent"), "not json")).toMatchObject({ type: "message.status" });
    expect(missedEvent(message("received", "inbound"), undefined)).toMatchObject({ type: "message.inbound" });
  });

  it("owes nothing for the status already announced, an announced inbound message, or one still on its way", () => {
    expect(missedEvent(message("read"), body("read"))).toBeUndefined();
    expect(missedEvent(message("received", "inbound"), body("received"))).toBeUndefined();
    expect(missedEvent(message("queued"), undefined)).toBeUndefined();
    expect(missedEvent(message("sending"), body("queued"))).toBeUndefined();
  });
});
