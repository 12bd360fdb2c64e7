/** True when the standard OTEL_* variables ask for traces to be exported. */
export function tracingRequested(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.OTEL_SDK_DISABLED === "true") return false;
  const exporter = env.OTEL_TRACES_EXPORTER;
  if (exporter !== undefined && exporter !== "") return exporter !== "none";
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts the OpenTelemetry SDK for traces when the environment asks for it,
 * configured entirely by the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_PROTOCOL http/protobuf or http/json, OTEL_SERVICE_NAME,
 * OTEL_TRACES_SAMPLER...). Off otherwise: the API stays a no-op, so spans
 * cost nothing. Metrics do not go through here: they are scraped at /metrics.
 * Returns the shutdown that flushes pending spans.
 */
export async function startTracing(env: NodeJS.ProcessEnv): Promise<(() => Promise<void>) | undefined> {
  if (!tracingRequested(env)) return undefined;
  // Imported only when asked for: the SDK takes a few hundred ms to load, which
  // a gateway with tracing off should not pay at every start.
  const { NodeSDK } = await import("@opentelemetry/sdk-node");
  // Traces only: metrics are served at /metrics, logs go to stdout.
  env.OTEL_METRICS_EXPORTER ??= "none";
  env.OTEL_LOGS_EXPORTER ??= "none";
  env.OTEL_TRACES_EXPORTER ??= "otlp";
  env.OTEL_SERVICE_NAME ??= "messaging-gateway";
  const sdk = new NodeSDK({ instrumentations: [] });
  sdk.start();
  return () => sdk.shutdown();
}
