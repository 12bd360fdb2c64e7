import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startWhatsAppSimulator, type WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.ts";
import { eventually } from "../support/in-process-gateway.ts";
import { seedLinkedSession } from "../support/linked-session.ts";
import { startOtlpReceiver } from "../support/otlp-receiver.ts";
import { parsePrometheus, sampleValue } from "../support/prometheus-text.ts";
import { tempDir } from "../support/temp-dir.ts";

const PHONE = "40711111111";
const entry = join(import.meta.dirname, "../../src/main.ts");
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function linkedGatewayProcess(sim: WhatsAppSimulator, env: Record<string, string>): Promise<GatewayProcess> {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  await seedLinkedSession(sim, dir.path, "default", PHONE);
  const gw = await startGatewayProcess(entry, {
    DATA_DIR: dir.path,
    API_KEYS: "k",
    GATEWAY_PROVIDERS: "baileys",
    WA_WEBSOCKET_URL: sim.wsUrl,
    ...env,
  });
  cleanups.push(async () => {
    gw.child.kill("SIGTERM");
    await gw.exited;
  });
  return gw;
}

const auth = { authorization: "Bearer k" };
async function session(url: string) {
  return (await (await fetch(`${url}/sessions/default`, { headers: auth })).json()) as {
    state: string;
    reconnects: number;
    lastRecoveryMs: number;
  };
}

describe("telemetry of a gateway process", () => {
  it("exports a forced drop as one whatsapp.reconnect span over OTLP/HTTP, matching the reported time to recover", async () => {
    const sim = await startWhatsAppSimulator();
    cleanups.push(() => sim.close());
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const gw = await linkedGatewayProcess(sim, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "gateway-under-test",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    });
    await eventually(async () => ((await session(gw.url)).state === "open" ? true : undefined), 20_000, "open");
    sim.fault({ phone: PHONE, kind: "stream-error", code: 503 });
    const recovered = await eventually(
      async () => {
        const s = await session(gw.url);
        return s.state === "open" && s.reconnects === 1 ? s : undefined;
      },
      20_000,
      "recovered",
    );
    const span = await eventually(
      () => receiver.spans.find((s) => s.name === "whatsapp.reconnect"),
      10_000,
      "exported span",
    );
    expect(span.service).toBe("gateway-under-test");
    expect(span.attributes).toMatchObject({
      "session.id": "default",
      "disconnect.code": 503,
      "reconnect.outcome": "open",
      "reconnect.attempts": 1,
    });
    expect(typeof span.attributes["disconnect.reason"]).toBe("string");
    expect(Math.abs(span.endMs - span.startMs - recovered.lastRecoveryMs)).toBeLessThanOrEqual(1);
    const children = await eventually(
      () => {
        const c = receiver.spans.filter((s) => s.name === "whatsapp.connect" && s.parentSpanId === span.spanId);
        return c.length > 0 ? c : undefined;
      },
      5_000,
      "connect child",
    );
    expect(children).toHaveLength(1);
    expect(receiver.spans.filter((s) => s.name === "whatsapp.reconnect")).toHaveLength(1);
  });

  it("shows the drop as a histogram sample on /metrics, beside session state and queue gauges", async () => {
    const sim = await startWhatsAppSimulator();
    cleanups.push(() => sim.close());
    const gw = await linkedGatewayProcess(sim, {});
    await eventually(async () => ((await session(gw.url)).state === "open" ? true : undefined), 20_000, "open");
    sim.fault({ phone: PHONE, kind: "close" });
    const recovered = await eventually(
      async () => {
        const s = await session(gw.url);
        return s.state === "open" && s.reconnects === 1 ? s : undefined;
      },
      20_000,
      "recovered",
    );
    const post = await fetch(`${gw.url}/messages`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ to: "+40722222222", text: "counted" }),
    });
    expect(post.status).toBe(202);
    await eventually(
      async () => {
        const samples = parsePrometheus(await (await fetch(`${gw.url}/metrics`)).text());
        return (
          (sampleValue(samples, "gateway_messages_total", {
            provider: "baileys",
            direction: "outbound",
            status: "sent",
          }) ?? 0) >= 1 || undefined
        );
      },
      10_000,
      "sent counted",
    );

    const res = await fetch(`${gw.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const samples = parsePrometheus(await res.text());
    const labels = { session: "default", code: "428" };
    expect(sampleValue(samples, "gateway_reconnect_duration_seconds_count", labels)).toBe(1);
    expect(sampleValue(samples, "gateway_reconnect_duration_seconds_sum", labels)).toBeCloseTo(
      recovered.lastRecoveryMs / 1000,
      3,
    );
    expect(sampleValue(samples, "gateway_session_state", { session: "default", state: "open" })).toBe(1);
    expect(sampleValue(samples, "gateway_session_state", { session: "default", state: "reconnecting" })).toBe(0);
    expect(
      sampleValue(samples, "gateway_messages_total", { provider: "baileys", direction: "outbound", status: "queued" }),
    ).toBe(1);
    expect(samples.some((s) => s.name === "gateway_webhook_signature_failures_total")).toBe(true);
  });
});
