import { afterEach, describe, expect, it } from "vitest";
import { createPrometheusMetrics } from "../../src/adapters/telemetry/opentelemetry/prometheus-metrics.ts";
import { GatewayMetrics } from "../../src/app/telemetry/gateway-metrics.ts";
import type { QueueDepth } from "../../src/domain/ports/message-store.port.ts";
import type { SessionInfo } from "../../src/domain/session.ts";
import { eventually, startInProcessGateway, type InProcessGateway } from "../support/in-process-gateway.ts";
import { parsePrometheus, sampleValue } from "../support/prometheus-text.ts";

function session(provider: string, id: string): SessionInfo {
  return {
    id,
    provider,
    state: "open",
    me: null,
    lastDisconnect: null,
    reconnects: 0,
    reconnectAttempts: 0,
    lastRecoveryMs: null,
  };
}

describe("queue gauges", () => {
  it("report 0 for every session of a provider with logins and every route that had messages, instead of vanishing", async () => {
    const telemetry = createPrometheusMetrics("test", "0.0.0");
    let waiting: QueueDepth[] = [{ provider: "baileys", session: "sales", depth: 3, oldestAgeMs: 2_500 }];
    const metrics = new GatewayMetrics(telemetry.meter, {
      sessions: () => [session("baileys", "default"), session("baileys", "sales")],
      queueDepths: async () => waiting,
    });
    metrics.accepted({ provider: "twilio", session: "default" });
    const scrape = async (provider: string, session: string) => {
      const samples = parsePrometheus(await telemetry.render());
      return [
        sampleValue(samples, "gateway_queue_depth", { provider, session }),
        sampleValue(samples, "gateway_queue_oldest_age_seconds", { provider, session }),
      ];
    };

    expect(await scrape("baileys", "sales")).toEqual([3, 2.5]);
    expect(await scrape("baileys", "default")).toEqual([0, 0]);
    expect(await scrape("twilio", "default")).toEqual([0, 0]);

    // A route the previous process left messages on, not a session here: known once seen.
    waiting = [{ provider: "baileys", session: "gone", depth: 1, oldestAgeMs: 1_000 }];
    expect(await scrape("baileys", "gone")).toEqual([1, 1]);
    waiting = [];
    expect(await scrape("baileys", "gone")).toEqual([0, 0]);
    expect(await scrape("baileys", "sales")).toEqual([0, 0]);
    await telemetry.shutdown();
  });

  describe("in the gateway", () => {
    let gw: InProcessGateway | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    it("keep a route at 0 once its accepted message is sent", async () => {
      gw = await startInProcessGateway();
      const posted = await gw.call("POST", "/messages", { body: { to: "+40712345678", text: "hi", session: "other" } });
      expect(posted.status).toBe(202);
      const { id } = (await posted.json()) as { id: string };
      await eventually(async () => {
        const message = (await (await gw!.call("GET", `/messages/${id}`)).json()) as { status: string };
        return message.status === "sent" || undefined;
      });
      const samples = parsePrometheus(await (await gw.call("GET", "/metrics")).text());
      expect(sampleValue(samples, "gateway_queue_depth", { provider: "baileys", session: "other" })).toBe(0);
      expect(sampleValue(samples, "gateway_queue_oldest_age_seconds", { provider: "baileys", session: "other" })).toBe(
        0,
      );
    });
  });
});
