// A gateway process for process-level tests that need no real provider: the
// real entry logic (config, SQLite, HTTP, signals) over an in-memory provider
// whose "default" session never connects, so accepted messages stay queued.
import { serve } from "@hono/node-server";
import process from "node:process";
import { launch } from "../../src/app/composition/launch.ts";
import { MemoryMessagingProvider } from "../fakes/memory-messaging-provider.ts";

await launch({
  env: process.env,
  providers: [new MemoryMessagingProvider("baileys", ["whatsapp"], { default: false })],
  serve: (fetch, host, port) =>
    new Promise((resolve) => {
      const server = serve({ fetch, hostname: host, port }, (info) =>
        resolve({
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              if ("closeIdleConnections" in server) server.closeIdleConnections();
            }),
        }),
      );
    }),
  onSignal: (signal, handler) => process.on(signal, handler),
  exit: (code) => process.exit(code),
  print: (line) => process.stdout.write(`${line}\n`),
  isTerminal: process.stdout.isTTY === true,
});
