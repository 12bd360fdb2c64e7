// Node entry point (`npm start`). The Deno one is main.deno.ts; both launch the same gateway.
// The telemetry preload comes first so that tracing, when asked for, exists before the app loads.
import { shutdownTracing } from "./telemetry.preload.ts";
import { launch } from "./app/composition/launch.ts";
import { nodeRuntime } from "./node-runtime.ts";
import process from "node:process";

// tsx turns on source-mapped stack traces, and Baileys reads `new Error().stack`
// for every stanza it sends: mapping each frame of each costs about 5% of the
// gateway's CPU under load. Stacks in logs then point into tsx's compiled
// code; NODE_OPTIONS=--enable-source-maps keeps them mapped.
if (!`${process.env.NODE_OPTIONS ?? ""} ${process.execArgv.join(" ")}`.includes("--enable-source-maps")) {
  process.setSourceMapsEnabled(false);
}

await launch(nodeRuntime(shutdownTracing));
