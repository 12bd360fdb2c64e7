import type { Meter } from "@opentelemetry/api";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider } from "@opentelemetry/sdk-metrics";

export interface PrometheusMetrics {
  /** Where the app creates its instruments. */
  readonly meter: Meter;
  /** The current values in Prometheus' text format (what GET /metrics serves). */
  render(): Promise<string>;
  shutdown(): Promise<void>;
}

/**
 * Metrics collected on demand for a Prometheus scrape: the exporter runs no
 * server of its own; the gateway's HTTP app serves `render()` at /metrics.
 * One provider per gateway (not the global one), so several gateways in one
 * process (tests) keep separate figures.
 */
export function createPrometheusMetrics(serviceName: string, version: string): PrometheusMetrics {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ "service.name": serviceName, "service.version": version }),
    readers: [exporter],
  });
  const serializer = new PrometheusSerializer();
  return {
    meter: provider.getMeter("messaging-gateway", version),
    async render() {
      const { resourceMetrics } = await exporter.collect();
      return serializer.serialize(resourceMetrics);
    },
    shutdown: () => provider.shutdown(),
  };
}
