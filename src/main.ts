// Node entry point (`npm start`). The Deno one is main.deno.ts; both launch the same gateway.
// The telemetry preload comes first so that tracing, when asked for, exists before the app loads.
import { shutdownTracing } from "./telemetry.preload.ts";
import { launch } from "./app/composition/launch.ts";
import { nodeRuntime } from "./node-runtime.ts";

await launch(nodeRuntime(shutdownTracing));
