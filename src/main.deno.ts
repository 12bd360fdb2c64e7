// Deno entry point: the same gateway as main.ts, served by Deno.serve.
// Run: npx deno run -A src/main.deno.ts (or: npm run deno:start).
import { shutdownTracing } from "./telemetry.preload.ts";
import process from "node:process";
import { launch } from "./app/composition/launch.ts";

declare const Deno: {
  serve(
    options: { hostname: string; port: number; onListen?: (addr: { port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { finished: Promise<void>; shutdown(): Promise<void> };
};

await launch({
  env: process.env,
  serve: (fetch, host, port) =>
    new Promise((resolve) => {
      const server = Deno.serve(
        { hostname: host, port, onListen: (addr) => resolve({ port: addr.port, close: () => server.shutdown() }) },
        fetch,
      );
    }),
  onSignal: (signal, handler) => process.on(signal, handler),
  exit: (code) => process.exit(code),
  print: (line) => process.stdout.write(`${line}\n`),
  isTerminal: process.stdout.isTTY === true,
  ...(shutdownTracing ? { flushTelemetry: shutdownTracing } : {}),
});
