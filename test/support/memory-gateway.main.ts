// A gateway process for process-level tests that need no real provider: the
// real entry logic (config, SQLite, HTTP, signals) over an in-memory provider
// whose "default" session never connects, so accepted messages stay queued.
import { launch } from "../../src/app/composition/launch.ts";
import { MessagingProviders } from "../../src/domain/ports/messaging-provider.port.ts";
import { nodeRuntime } from "../../src/node-runtime.ts";
import { MemoryMessagingProvider } from "../fakes/memory-messaging-provider.ts";

await launch({
  ...nodeRuntime(),
  register: (container) =>
    container.register(MessagingProviders, {
      useValue: [new MemoryMessagingProvider("baileys", ["whatsapp"], { default: false })],
    }),
});
