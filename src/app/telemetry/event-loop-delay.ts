import type { BatchObservableResult, Meter } from "@opentelemetry/api";
import { monitorEventLoopDelay } from "node:perf_hooks";

/** How often the event loop is sampled: a delay shorter than this is not seen. */
const RESOLUTION_MS = 10;

/**
 * The process's event-loop delay as Prometheus gauges
 * (`nodejs_eventloop_delay_{p50,p99,max}_seconds`): how late a timer of the
 * loop fired, sampled every 10 ms by `perf_hooks.monitorEventLoopDelay`. Each scrape
 * reads the window since the previous scrape (the histogram is reset after
 * it is read, as prom-client's `nodejs_eventloop_lag_*` and OpenTelemetry's
 * runtime instrumentation do), so a scrape right before and right after a
 * busy moment measures that moment. With no sample in the window (a scrape
 * right after another) every gauge reads 0.
 * @returns a function that stops the sampling.
 */
export function observeEventLoopDelay(meter: Meter): () => void {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  const gauge = (name: string, description: string) =>
    meter.createObservableGauge(`nodejs_eventloop_delay_${name}_seconds`, { description, unit: "s" });
  const p50 = gauge("p50", "Event-loop delay since the previous scrape: median");
  const p99 = gauge("p99", "Event-loop delay since the previous scrape: 99th percentile");
  const max = gauge("max", "Event-loop delay since the previous scrape: longest");
  // The histogram counts in nanoseconds the time between two samples, the
  // resolution included (an idle loop reads 10 ms): only the lateness is
  // reported. With no sample, percentiles read 0 and max a huge sentinel.
  const seconds = (ns: number): number => (histogram.count === 0 ? 0 : Math.max(0, ns / 1e6 - RESOLUTION_MS) / 1e3);
  const callback = (result: BatchObservableResult): void => {
    result.observe(p50, seconds(histogram.percentile(50)));
    result.observe(p99, seconds(histogram.percentile(99)));
    result.observe(max, seconds(histogram.max));
    histogram.reset();
  };
  meter.addBatchObservableCallback(callback, [p50, p99, max]);
  return () => {
    meter.removeBatchObservableCallback(callback, [p50, p99, max]);
    histogram.disable();
  };
}
