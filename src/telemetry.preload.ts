// Imported first by the entry points (and usable as `node --import`), so the
// tracer provider exists before any module of the gateway runs. Starts
// nothing unless the standard OTEL_* variables ask for traces.
import process from "node:process";
import { startTracing } from "./adapters/telemetry/opentelemetry/tracing-sdk.ts";

/** Flushes and stops tracing; undefined when tracing is off. */
export const shutdownTracing: (() => Promise<void>) | undefined = await startTracing(process.env);
