import { describe, expect, it } from "vitest";
import { InProcessDomainEvents } from "../../src/app/in-process-domain-events.ts";
import { createLogger } from "../../src/app/logger.ts";
import { RecordProviderEvent } from "../../src/app/use-cases/record-provider-event.ts";
import type { DomainEvent } from "../../src/domain/ports/domain-events.port.ts";
import { systemClock } from "../../src/domain/ports/clock.port.ts";
import type { ProviderStatus } from "../../src/domain/message-status.ts";
import { MemoryMessageStore } from "../fakes/memory-message-store.ts";
import { MemoryMessagingProvider } from "../fakes/memory-messaging-provider.ts";

const logger = createLogger("silent");

async function sentMessage() {
  const store = new MemoryMessageStore();
  const provider = new MemoryMessagingProvider("memory", ["whatsapp"]);
  const events = new InProcessDomainEvents(logger);
  const seen: DomainEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const { message } = await store.enqueue({
    id: "m-1",
    provider: "memory",
    session: "default",
    channel: "whatsapp",
    to: "whatsapp:+40712345001",
    from: null,
    text: "hi",
    media: [],
    metadata: null,
    idempotency: null,
    at: new Date(),
  });
  await store.claim({ provider: "memory", session: "default" }, 1, 60_000, new Date());
  await store.recordAttempt(message.id, { kind: "sent", providerMessageId: "wa-1" }, new Date());
  const recorder = new RecordProviderEvent(store, events, systemClock, logger);
  const report = (status: ProviderStatus) =>
    recorder.handle(provider, { type: "status", providerMessageId: "wa-1", status });
  const announced = () => seen.flatMap((e) => (e.type === "message.status" ? [e.reached] : []));
  return { report, announced };
}

describe("RecordProviderEvent: status reports", () => {
  it("announces what a report reached, once: a repeated or overtaken report is not announced again", async () => {
    const { report, announced } = await sentMessage();
    await report("delivered");
    await report("delivered");
    await report("read");
    await report("delivered");
    await report("read");
    expect(announced()).toEqual([["delivered"], ["read"]]);
  });

  it("announces the delivery a read receipt implies when no delivery receipt came", async () => {
    const { report, announced } = await sentMessage();
    await report("read");
    expect(announced()).toEqual([["delivered", "read"]]);
  });
});

describe("RecordProviderEvent: session changes", () => {
  it("announces a session that can send now as session.ready, and one that cannot as nothing of the kind", async () => {
    const provider = new MemoryMessagingProvider("memory", ["whatsapp"], { s1: false });
    const events = new InProcessDomainEvents(logger);
    const seen: DomainEvent[] = [];
    events.subscribe((e) => seen.push(e));
    new RecordProviderEvent(new MemoryMessageStore(), events, systemClock, logger).attach(provider);
    provider.setReady("s1", true);
    provider.setReady("s1", false);
    expect(seen.filter((e) => e.type === "session.ready")).toEqual([
      { type: "session.ready", provider: "memory", session: "s1" },
    ]);
  });
});
