import { afterEach, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { Dispatcher, type DispatcherOptions } from "../../src/app/dispatcher/dispatcher.ts";
import { InProcessDomainEvents } from "../../src/app/in-process-domain-events.ts";
import { createLogger } from "../../src/app/logger.ts";
import { RecordProviderEvent } from "../../src/app/use-cases/record-provider-event.ts";
import { ProviderError } from "../../src/domain/errors.ts";
import type { DomainEvent } from "../../src/domain/ports/domain-events.port.ts";
import { systemClock } from "../../src/domain/ports/clock.port.ts";
import { MemoryMessageStore } from "../fakes/memory-message-store.ts";
import { MemoryMessagingProvider } from "../fakes/memory-messaging-provider.ts";
import { eventually } from "../support/in-process-gateway.ts";

const logger = createLogger("silent");
const options: DispatcherOptions = {
  concurrency: 4,
  maxAttempts: 3,
  baseMs: 5,
  maxMs: 20,
  leaseMs: 60_000,
  sendTimeoutMs: 5_000,
  minIntervalMs: 0,
  sweepIntervalMs: 50,
};

let running: Dispatcher | undefined;
afterEach(async () => {
  await running?.stop(1_000);
  running = undefined;
});

function setup(overrides: Partial<DispatcherOptions> = {}, sessions: Record<string, boolean> = { default: true }) {
  const store = new MemoryMessageStore();
  const provider = new MemoryMessagingProvider("memory", ["whatsapp"], sessions);
  const events = new InProcessDomainEvents(logger);
  const seen: DomainEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const dispatcher = new Dispatcher(store, [provider], events, systemClock, logger, { ...options, ...overrides });
  running = dispatcher;
  // A session that becomes ready is announced (session.ready), and the dispatcher wakes its route.
  new RecordProviderEvent(store, events, systemClock, logger).attach(provider);
  const enqueue = async (to: string, text: string, session = "default") => {
    const { message } = await store.enqueue({
      id: randomUUID(),
      provider: "memory",
      session,
      channel: "whatsapp",
      to,
      from: null,
      text,
      media: [],
      metadata: null,
      idempotency: null,
      at: new Date(),
    });
    events.publish({ type: "message.accepted", message });
    return message.id;
  };
  return { store, provider, dispatcher, enqueue, seen };
}

/**
 * `n` messages (`m0`...) to one recipient, queued while the session is down,
 * on a provider with a send window of 4; `start()` starts the dispatcher and
 * brings the session up, so its first claim sees them all.
 */
async function queuedForOneRecipient(n: number, overrides: Partial<DispatcherOptions>) {
  const made = setup(overrides, { default: false });
  made.provider.sendWindow = 4;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await made.enqueue("whatsapp:+40712345001", `m${i}`));
  const start = async (): Promise<void> => {
    await made.dispatcher.start();
    made.provider.setReady("default", true);
  };
  return { ...made, ids, start };
}

describe("Dispatcher", () => {
  it("delivers every queued message once, FIFO per recipient", async () => {
    const { provider, dispatcher, enqueue } = setup();
    await dispatcher.start();
    const expected: Record<string, string[]> = {};
    for (let i = 0; i < 60; i++) {
      const to = `whatsapp:+4071234500${i % 3}`;
      const text = `m${i}`;
      (expected[to] ??= []).push(text);
      await enqueue(to, text);
    }
    await eventually(() => provider.sent.length === 60 || undefined, 10_000, "60 sends");
    const byRecipient: Record<string, string[]> = {};
    for (const m of provider.sent) (byRecipient[m.to] ??= []).push(m.text);
    expect(byRecipient).toEqual(expected);
    expect(new Set(provider.sent.map((m) => m.id)).size).toBe(60);
  });

  it("keeps messages queued while the session is down and drains them when it comes back", async () => {
    const { store, provider, dispatcher, enqueue } = setup({}, { default: false });
    await dispatcher.start();
    const ids = [await enqueue("whatsapp:+40712345001", "a"), await enqueue("whatsapp:+40712345002", "b")];
    await new Promise((r) => setTimeout(r, 150));
    expect(provider.sent).toHaveLength(0);
    for (const id of ids) expect((await store.get(id))?.status).toBe("queued");
    provider.setReady("default", true);
    await eventually(() => provider.sent.length === 2 || undefined, 5_000, "drain");
    for (const id of ids) expect((await store.get(id))?.status).toBe("sent");
  });

  it("never fails a message whose session dropped during the send", async () => {
    const { store, provider, dispatcher, enqueue } = setup({ maxAttempts: 1 });
    await dispatcher.start();
    provider.holdSends();
    const id = await enqueue("whatsapp:+40712345001", "a");
    await eventually(() => provider.inFlight === 1 || undefined, 5_000, "in flight");
    provider.failWith(new ProviderError("memory", "connection closed", true));
    provider.setReady("default", false);
    provider.release();
    await eventually(async () => ((await store.get(id))?.status === "queued" ? true : undefined), 5_000, "requeued");
    provider.setReady("default", true);
    await eventually(
      async () => ((await store.get(id))?.status === "sent" ? true : undefined),
      5_000,
      "sent after reconnect",
    );
    expect(provider.sent).toHaveLength(1);
  });

  it("retries retryable errors with backoff, then succeeds", async () => {
    const { store, provider, dispatcher, enqueue } = setup();
    await dispatcher.start();
    provider.failRetryable(2);
    const id = await enqueue("whatsapp:+40712345001", "a");
    const message = await eventually(async () => {
      const m = await store.get(id);
      return m?.status === "sent" ? m : undefined;
    });
    expect(message.attempts).toBe(3);
    expect(message.history.map((h) => h.status)).toEqual([
      "queued",
      "sending",
      "queued",
      "sending",
      "queued",
      "sending",
      "sent",
    ]);
  });

  it("fails a message with the reason after the last attempt, and the next one to the recipient proceeds", async () => {
    const { store, provider, dispatcher, enqueue } = setup();
    await dispatcher.start();
    provider.failRetryable(3, "upstream 503");
    const first = await enqueue("whatsapp:+40712345001", "a");
    const second = await enqueue("whatsapp:+40712345001", "b");
    const failed = await eventually(async () => {
      const m = await store.get(first);
      return m?.status === "failed" ? m : undefined;
    });
    expect(failed.attempts).toBe(3);
    expect(failed.error?.message).toMatch(/gave up after 3 attempts: upstream 503/);
    await eventually(async () => ((await store.get(second))?.status === "sent" ? true : undefined));
    expect(provider.sent.map((m) => m.text)).toEqual(["b"]);
  });

  it("fails a terminal error at once, keeping the provider's code", async () => {
    const { store, provider, dispatcher, enqueue, seen } = setup();
    await dispatcher.start();
    provider.failWith(new ProviderError("memory", "invalid To", false, "21211"));
    const id = await enqueue("whatsapp:+40712345001", "a");
    const failed = await eventually(async () => {
      const m = await store.get(id);
      return m?.status === "failed" ? m : undefined;
    });
    expect(failed.attempts).toBe(1);
    expect(failed.error).toMatchObject({ code: "PROVIDER.REJECTED", providerCode: "21211", retryable: false });
    expect(seen.some((e) => e.type === "message.status" && e.message.id === id && e.message.status === "failed")).toBe(
      true,
    );
  });

  it("sends to different recipients concurrently, never more than the limit", async () => {
    const { provider, dispatcher, enqueue } = setup({ concurrency: 3 });
    await dispatcher.start();
    provider.holdSends();
    for (let i = 0; i < 8; i++) await enqueue(`whatsapp:+4071234500${i}`, `m${i}`);
    await eventually(() => provider.inFlight === 3 || undefined, 5_000, "3 in flight");
    await new Promise((r) => setTimeout(r, 100));
    expect(provider.inFlight).toBe(3);
    provider.release();
    await eventually(() => provider.sent.length === 8 || undefined, 5_000, "all sent");
    expect(provider.maxInFlight).toBe(3);
  });

  it("on stop, sends and records what a claim under way hands out, leaving nothing in sending", async () => {
    const { store, provider, dispatcher, enqueue } = setup();
    await dispatcher.start();
    // Hold the next claim until stop() has begun.
    let releaseClaim!: () => void;
    const claimHeld = new Promise<void>((resolve) => (releaseClaim = resolve));
    let claiming!: () => void;
    const claimStarted = new Promise<void>((resolve) => (claiming = resolve));
    const claim = store.claim.bind(store);
    store.claim = async (...args) => {
      claiming();
      await claimHeld;
      return claim(...args);
    };
    const id = await enqueue("whatsapp:+40712345009", "in the last claim");
    await claimStarted;
    const stopped = dispatcher.stop(5_000);
    releaseClaim();
    await stopped;
    expect(provider.sent.map((m) => m.id)).toEqual([id]);
    expect((await store.get(id))?.status).toBe("sent");
  });

  it("sends one message at a time to one recipient", async () => {
    const { provider, dispatcher, enqueue } = setup({ concurrency: 8 });
    await dispatcher.start();
    for (let i = 0; i < 10; i++) await enqueue("whatsapp:+40712345001", `m${i}`);
    await eventually(() => provider.sent.length === 10 || undefined, 5_000, "all sent");
    expect(provider.maxInFlight).toBe(1);
    expect(provider.sent.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
  });

  it("with a send window, has up to that many messages to one recipient in flight, written in order", async () => {
    const { provider, start } = await queuedForOneRecipient(10, { concurrency: 8 });
    provider.holdSends();
    await start();
    // The first run: four written, none confirmed; the fifth waits for the whole run.
    await eventually(() => provider.inFlight === 4 || undefined, 5_000, "a run of 4 in flight");
    await new Promise((r) => setTimeout(r, 100));
    expect(provider.written.map((m) => m.text)).toEqual(["m0", "m1", "m2", "m3"]);
    provider.release();
    await eventually(() => provider.sent.length === 10 || undefined, 5_000, "all sent");
    expect(provider.maxInFlight).toBe(4);
    expect(provider.written.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
  });

  it("releases the rest of a run unsent when a message of it cannot be written, and counts no attempt for them", async () => {
    const { store, provider, ids, start } = await queuedForOneRecipient(4, { concurrency: 8 });
    provider.failRetryable(1, "not written");
    await start();
    await eventually(() => provider.sent.length === 4 || undefined, 5_000, "all sent after the retry");
    // Nothing overtook m0: the three after it were never written before its retry went out.
    expect(provider.written.map((m) => m.text)).toEqual(["m0", "m1", "m2", "m3"]);
    const stored = await Promise.all(ids.map((id) => store.get(id)));
    expect(stored.map((m) => m?.attempts)).toEqual([2, 1, 1, 1]);
    expect(stored[1]?.history.map((h) => h.status)).toEqual(["queued", "sending", "queued", "sending", "sent"]);
  });

  it("sends paced messages one at a time to a recipient, whatever the provider's window", async () => {
    const { provider, start } = await queuedForOneRecipient(4, { concurrency: 8, minIntervalMs: 5 });
    provider.holdSends();
    await start();
    await eventually(() => provider.inFlight === 1 || undefined, 5_000, "the first in flight");
    // With a run of 4, the next three would follow m0 onto the wire within 15 ms.
    await new Promise((r) => setTimeout(r, 100));
    expect(provider.written.map((m) => m.text)).toEqual(["m0"]);
    provider.release();
    await eventually(() => provider.sent.length === 4 || undefined, 5_000, "all sent");
    expect(provider.maxInFlight).toBe(1);
    expect(provider.sent.map((m) => m.text)).toEqual(["m0", "m1", "m2", "m3"]);
  });

  it("paces sends of a session when a minimum interval is set", async () => {
    const { provider, dispatcher, enqueue } = setup({ minIntervalMs: 40 });
    const times: number[] = [];
    provider.subscribe(() => undefined);
    const send = provider.send.bind(provider);
    provider.send = async (m) => {
      times.push(Date.now());
      return send(m);
    };
    await dispatcher.start();
    for (let i = 0; i < 4; i++) await enqueue(`whatsapp:+4071234500${i}`, `m${i}`);
    await eventually(() => provider.sent.length === 4 || undefined, 5_000, "all sent");
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Not a speed target: pacing is a minimum gap between sends, which is the behaviour.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(35);
  });

  it("puts messages left in flight by a crashed run back in the queue at start", async () => {
    const { store, provider, dispatcher, enqueue } = setup({}, { default: false });
    const id = await enqueue("whatsapp:+40712345001", "a");
    await store.claim({ provider: "memory", session: "default" }, 10, 60_000, new Date());
    expect((await store.get(id))?.status).toBe("sending");
    await dispatcher.start();
    expect((await store.get(id))?.status).toBe("queued");
    provider.setReady("default", true);
    await eventually(() => provider.sent.length === 1 || undefined);
  });
});
