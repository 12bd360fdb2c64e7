import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Dispatcher } from "../../src/app/dispatcher/dispatcher.ts";
import { InProcessDomainEvents } from "../../src/app/in-process-domain-events.ts";
import { createLogger } from "../../src/app/logger.ts";
import { RecordProviderEvent } from "../../src/app/use-cases/record-provider-event.ts";
import { EventRecorder } from "../../src/app/events/event-recorder.ts";
import { HeldWrites } from "../../src/app/held-writes.ts";
import { StoreUnavailableError } from "../../src/domain/errors.ts";
import type { Message, NewInboundMessage } from "../../src/domain/message.ts";
import { systemClock } from "../../src/domain/ports/clock.port.ts";
import type { LoggedEvent, NewLoggedEvent } from "../../src/domain/ports/event-log.port.ts";
import type { AttemptOutcome } from "../../src/domain/ports/message-store.port.ts";
import type { SessionInfo } from "../../src/domain/session.ts";
import type { NewWebhookDelivery } from "../../src/domain/webhook-delivery.ts";
import { MemoryEventLog } from "../fakes/memory-event-log.ts";
import { MemoryMessageStore } from "../fakes/memory-message-store.ts";
import { MemoryMessagingProvider } from "../fakes/memory-messaging-provider.ts";
import { eventually } from "../support/in-process-gateway.ts";

const logger = createLogger("silent");
const diskFull = () => new StoreUnavailableError("message store", "the disk is full (SQLITE_FULL)");

/** The memory store with a switchable full disk: writes are refused as the SQLite store refuses them. */
class FullableStore extends MemoryMessageStore {
  full = false;
  override async claim(...args: Parameters<MemoryMessageStore["claim"]>): Promise<Message[]> {
    if (this.full) throw diskFull();
    return super.claim(...args);
  }
  override async recordAttempt(id: string, outcome: AttemptOutcome, now: Date): Promise<Message> {
    if (this.full) throw diskFull();
    return super.recordAttempt(id, outcome, now);
  }
  override async recordInbound(message: NewInboundMessage) {
    if (this.full) throw diskFull();
    return super.recordInbound(message);
  }
}

let dispatcher: Dispatcher | undefined;
afterEach(async () => {
  await dispatcher?.stop(1_000);
  dispatcher = undefined;
});

describe("a store outage", () => {
  it("dispatcher: a send whose outcome cannot be recorded is recorded once the store writes again, and never sent twice", async () => {
    const store = new FullableStore();
    const provider = new MemoryMessagingProvider("memory", ["whatsapp"], { default: true });
    const events = new InProcessDomainEvents(logger);
    dispatcher = new Dispatcher(store, [provider], events, systemClock, logger, {
      concurrency: 4,
      maxAttempts: 3,
      baseMs: 5,
      maxMs: 20,
      leaseMs: 1_000,
      sendTimeoutMs: 5_000,
      minIntervalMs: 0,
      sweepIntervalMs: 50,
    });
    await dispatcher.start();
    provider.holdSends();
    const { message } = await store.enqueue({
      id: randomUUID(),
      provider: "memory",
      session: "default",
      channel: "whatsapp",
      to: "whatsapp:+40712345001",
      from: null,
      text: "hello",
      media: [],
      metadata: null,
      idempotency: null,
      at: new Date(),
    });
    events.publish({ type: "message.accepted", message });
    await eventually(() => provider.inFlight === 1 || undefined, 5_000, "the send started");
    store.full = true;
    provider.release();
    await eventually(() => provider.sent.length === 1 || undefined, 5_000, "sent");
    // Longer than the lease: a claim now would hand the sent message out again.
    await new Promise((r) => setTimeout(r, 1_500));
    store.full = false;
    await eventually(async () => (await store.get(message.id))?.status === "sent" || undefined, 10_000, "recorded");
    // Once, though its lease ran out while the outcome waited: no claim went before the record.
    await new Promise((r) => setTimeout(r, 300));
    expect(provider.sent.map((m) => m.id)).toEqual([message.id]);
  });

  it("provider events: an inbound message the store refused is recorded once it writes again", async () => {
    const store = new FullableStore();
    const provider = new MemoryMessagingProvider("memory", ["whatsapp"], { default: true });
    const events = new InProcessDomainEvents(logger);
    const inbound: Message[] = [];
    events.subscribe((e) => void (e.type === "message.inbound" && inbound.push(e.message)));
    new RecordProviderEvent(store, events, systemClock, logger).attach(provider);
    store.full = true;
    provider.emit({
      type: "inbound",
      message: {
        provider: "memory",
        session: "default",
        channel: "whatsapp",
        from: "whatsapp:+40700000001",
        to: null,
        text: "sent while the disk was full",
        media: [],
        providerMessageId: "in-1",
        at: new Date(),
      },
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(inbound).toEqual([]);
    store.full = false;
    await eventually(() => inbound.length === 1 || undefined, 10_000, "recorded");
    expect(inbound[0]?.text).toBe("sent while the disk was full");
  });

  it("webhooks: events the outbox refused are queued again in order, and at most `max` are held", async () => {
    const queued: string[] = [];
    let full = true;
    const enqueue = async (d: NewWebhookDelivery) => {
      if (full) throw diskFull();
      queued.push(d.id);
    };
    let woken = 0;
    const held = new HeldWrites({ write: enqueue, onDrained: () => woken++, what: "webhook events", logger, max: 3 });
    const delivery = (id: string): NewWebhookDelivery => ({
      id,
      eventId: id,
      type: "message.status",
      orderingKey: "k",
      body: "{}",
      at: new Date(),
    });
    for (const id of ["a", "b", "c", "d"]) held.hold(delivery(id));
    expect(held.size).toBe(3);
    await new Promise((r) => setTimeout(r, 300));
    full = false;
    await eventually(() => held.size === 0 || undefined, 10_000, "drained");
    // The oldest went when the bound was reached; the rest kept their order.
    expect(queued).toEqual(["b", "c", "d"]);
    expect(woken).toBeGreaterThan(0);
    expect(held.stop()).toBe(0);
  });

  it("event stream: events the log refused are recorded and handed out in order once it writes again", async () => {
    let full = false;
    const log = new (class extends MemoryEventLog {
      override async append(event: NewLoggedEvent): Promise<LoggedEvent> {
        if (full) throw diskFull();
        return super.append(event);
      }
    })();
    const events = new InProcessDomainEvents(logger);
    const recorder = new EventRecorder(log, systemClock, logger, { retentionHours: 24, pruneIntervalMs: 3_600_000 });
    recorder.attach(events);
    const streamed: LoggedEvent[] = [];
    recorder.subscribe((e) => streamed.push(e));
    const publish = (state: SessionInfo["state"]) =>
      events.publish({
        type: "session.state",
        session: { id: "default", provider: "baileys", state, me: null, lastDisconnect: null } as SessionInfo,
      });
    publish("open");
    await eventually(() => streamed.length === 1 || undefined, 5_000, "first streamed");
    full = true;
    publish("reconnecting");
    publish("connecting");
    await new Promise((r) => setTimeout(r, 300));
    expect(streamed).toHaveLength(1);
    full = false;
    publish("open");
    await eventually(() => streamed.length === 4 || undefined, 10_000, "all streamed");
    await recorder.stop();
    const states = streamed.map((e) => (JSON.parse(e.body) as { data: { state: string } }).data.state);
    expect(states).toEqual(["open", "reconnecting", "connecting", "open"]);
    expect(streamed.map((e) => Number(e.id))).toEqual([1, 2, 3, 4]);
  });
});
