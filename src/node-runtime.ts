import { serve } from "@hono/node-server";
import process from "node:process";
import type { Runtime } from "./app/composition/launch.ts";

/** What `launch` needs from Node: @hono/node-server, signals, the terminal. */
export function nodeRuntime(flushTelemetry?: () => Promise<void>): Runtime {
  return {
    env: process.env,
    serve: (fetch, host, port) =>
      new Promise((resolve) => {
        const server = serve({ fetch, hostname: host, port }, (info) =>
          resolve({
            port: info.port,
            close: () =>
              new Promise<void>((done) => {
                server.close(() => done());
                // Idle keep-alive connections would hold close() open until they time out.
                if ("closeIdleConnections" in server) server.closeIdleConnections();
              }),
          }),
        );
      }),
    onSignal: (signal, handler) => process.on(signal, handler),
    exit: (code) => process.exit(code),
    print: (line) => process.stdout.write(`${line}\n`),
    isTerminal: process.stdout.isTTY === true,
    ...(flushTelemetry ? { flushTelemetry } : {}),
  };
}
