import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { trace, type ProxyTracerProvider } from "@opentelemetry/api";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { MessageSpans, traceRecovery, tracingActive } from "../../src/app/telemetry/tracing.ts";
import { startWhatsAppSimulator, type WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { eventually, startInProcessGateway, type InProcessGateway } from "../support/in-process-gateway.ts";
import { seedLinkedSession } from "../support/linked-session.ts";
import { tempDir } from "../support/temp-dir.ts";

// Span structure through the SDK's in-memory exporter: this file's process
// runs a real NodeSDK (vitest gives each test file its own process).
const exporter = new InMemorySpanExporter();
const sdk = new NodeSDK({ spanProcessors: [new SimpleSpanProcessor(exporter)], instrumentations: [] });
beforeAll(() => sdk.start());
afterAll(() => sdk.shutdown());
beforeEach(() => exporter.reset());

const spans = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
// The SDK exports a span once its resource's async attributes settled: flush before reading.
const flush = () =>
  (trace.getTracerProvider() as ProxyTracerProvider).getDelegate() as unknown as { forceFlush(): Promise<void> };
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe("traceRecovery", () => {
  it("makes one whatsapp.reconnect span from close to open with a whatsapp.connect child per attempt", async () => {
    expect(tracingActive()).toBe(true);
    const t0 = Date.now() - 1_000;
    traceRecovery({
      session: "s1",
      code: 503,
      reason: "Stream Errored",
      attempts: 2,
      outcome: "open",
      startedAt: t0,
      endedAt: t0 + 300,
      durationMs: 300,
      attemptLog: [
        { startedAt: t0, endedAt: t0 + 100, outcome: "closed", code: 503 },
        { startedAt: t0 + 200, endedAt: t0 + 300, outcome: "open" },
      ],
    });
    await flush().forceFlush();
    const [reconnect] = spans("whatsapp.reconnect");
    expect(reconnect?.attributes).toMatchObject({
      "session.id": "s1",
      "disconnect.code": 503,
      "disconnect.reason": "Stream Errored",
      "reconnect.attempts": 2,
      "reconnect.outcome": "open",
    });
    const durationMs = reconnect!.duration[0] * 1000 + reconnect!.duration[1] / 1e6;
    expect(Math.round(durationMs)).toBe(300);
    const connects = spans("whatsapp.connect");
    expect(connects).toHaveLength(2);
    for (const c of connects) expect(parentOf(c)).toBe(reconnect!.spanContext().spanId);
    expect(connects.map((c) => c.attributes["connect.outcome"])).toEqual(["closed", "open"]);
  });
});

describe("MessageSpans", () => {
  it("keeps at most `limit` open spans, ending the oldest", async () => {
    const table = new MessageSpans(2);
    const m = (id: string) => ({ id, provider: "p", session: "s", channel: "whatsapp", status: "queued" }) as never;
    table.accepted(m("a"));
    table.accepted(m("b"));
    table.accepted(m("c"));
    await flush().forceFlush();
    expect(spans("message.send").map((s) => s.attributes["message.id"])).toEqual(["a"]);
  });
});

describe("a gateway with tracing on", () => {
  let sim: WhatsAppSimulator;
  let gw: InProcessGateway;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => {
    sim = await startWhatsAppSimulator();
    dir = await tempDir();
    await seedLinkedSession(sim, dir.path, "default", "40711111111");
    gw = await startInProcessGateway(
      { GATEWAY_PROVIDERS: "baileys", WA_WEBSOCKET_URL: sim.wsUrl },
      "configured",
      dir.path,
    );
    await eventually(
      async () =>
        ((await (await gw.call("GET", "/sessions/default")).json()) as { state: string }).state === "open" || undefined,
    );
  });
  afterEach(async () => {
    await gw.close();
    await sim.close();
    await dir.remove();
  });

  it("traces a forced drop as one whatsapp.reconnect span matching the session's time to recover", async () => {
    exporter.reset();
    sim.fault({ phone: "40711111111", kind: "close" });
    const session = await eventually(async () => {
      const s = (await (await gw.call("GET", "/sessions/default")).json()) as {
        state: string;
        reconnects: number;
        lastRecoveryMs: number;
      };
      return s.state === "open" && s.reconnects === 1 ? s : undefined;
    });
    await flush().forceFlush();
    const [reconnect] = spans("whatsapp.reconnect");
    expect(reconnect?.attributes).toMatchObject({
      "session.id": "default",
      "disconnect.code": 428,
      "reconnect.outcome": "open",
      "reconnect.attempts": 1,
    });
    const durationMs = reconnect!.duration[0] * 1000 + reconnect!.duration[1] / 1e6;
    expect(Math.abs(durationMs - session.lastRecoveryMs)).toBeLessThanOrEqual(1);
    expect(spans("whatsapp.connect")).toHaveLength(1);
  });

  it("traces a message from the HTTP request through dispatch to the provider's ack", async () => {
    const res = await gw.call("POST", "/messages", { body: { to: "+40722222222", text: "traced" } });
    const { id } = (await res.json()) as { id: string };
    await eventually(
      () => spans("message.send").find((s) => s.attributes["message.id"] === id),
      10_000,
      "message.send span",
    );
    const send = spans("message.send").find((s) => s.attributes["message.id"] === id)!;
    const request = spans("POST /messages").find((s) => s.spanContext().traceId === send.spanContext().traceId);
    expect(request?.attributes["http.response.status_code"]).toBe(202);
    expect(parentOf(send)).toBe(request!.spanContext().spanId);
    const dispatch = spans("message.dispatch").filter((s) => s.attributes["message.id"] === id);
    expect(dispatch).toHaveLength(1);
    expect(parentOf(dispatch[0]!)).toBe(send.spanContext().spanId);
    expect(dispatch[0]!.attributes).toMatchObject({
      "message.provider": "baileys",
      "session.id": "default",
      "dispatch.outcome": "sent",
    });
    expect(send.attributes["message.status"]).toMatch(/sent|delivered|read/);
  });

  it("traces session store reads and writes with the store kind", async () => {
    await flush().forceFlush();
    const stores = exporter.getFinishedSpans().filter((s) => s.name.startsWith("session_store."));
    expect(stores.length).toBeGreaterThan(0);
    expect(new Set(stores.map((s) => s.attributes["store.kind"]))).toEqual(new Set(["sqlite"]));
  });
});
