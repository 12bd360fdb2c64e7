import { describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { createPrometheusMetrics } from "../../src/adapters/telemetry/opentelemetry/prometheus-metrics.ts";
import { observeEventLoopDelay } from "../../src/app/telemetry/event-loop-delay.ts";
import { parsePrometheus, sampleValue } from "../support/prometheus-text.ts";

/** Holds the event loop for `ms`, as a synchronous loop of work would. */
function holdLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

describe("event-loop delay gauges", () => {
  it("show a held event loop in the scrape after it, and only the window since the previous scrape", async () => {
    const telemetry = createPrometheusMetrics("test", "0.0.0");
    const stop = observeEventLoopDelay(telemetry.meter);
    const scrape = async () => {
      const samples = parsePrometheus(await telemetry.render());
      return {
        p50: sampleValue(samples, "nodejs_eventloop_delay_p50_seconds"),
        p99: sampleValue(samples, "nodejs_eventloop_delay_p99_seconds"),
        max: sampleValue(samples, "nodejs_eventloop_delay_max_seconds"),
      };
    };
    try {
      await scrape();
      await sleep(50);
      holdLoop(300);
      await sleep(50);
      const held = await scrape();
      expect(held.max).toBeGreaterThanOrEqual(0.25);
      expect(held.p99).toBeGreaterThanOrEqual(0.25);
      expect(held.p50).toBeLessThanOrEqual(held.max!);

      // The held moment belongs to the previous window: a quiet one does not repeat it.
      await sleep(100);
      const quiet = await scrape();
      expect(quiet.max).toBeLessThan(0.25);
    } finally {
      stop();
      await telemetry.shutdown();
    }
  });
});
