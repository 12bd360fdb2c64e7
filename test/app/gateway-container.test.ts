import { afterEach, describe, expect, it } from "vitest";
import { buildGateway, type Gateway } from "../../src/app/composition/gateway.ts";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createLogger } from "../../src/app/logger.ts";
import { MessageStore } from "../../src/domain/ports/message-store.port.ts";
import { MessagingProviders } from "../../src/domain/ports/messaging-provider.port.ts";
import { SessionStore } from "../../src/domain/ports/session-store.port.ts";
import { WhatsAppConnector } from "../../src/domain/ports/whatsapp-connector.port.ts";
import { MemorySessionStore } from "../fakes/memory-session-store.ts";
import { ScriptedWhatsAppConnector } from "../fakes/scripted-whatsapp-connector.ts";
import { MemoryMessageStore } from "../fakes/memory-message-store.ts";
import { MemoryMessagingProvider } from "../fakes/memory-messaging-provider.ts";
import { eventually, TEST_API_KEY } from "../support/in-process-gateway.ts";
import { tempDir } from "../support/temp-dir.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gatewayWith(register: Parameters<typeof buildGateway>[0]["register"]): Promise<Gateway> {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  const gateway = await buildGateway({
    config: loadConfig({ DATA_DIR: dir.path, API_KEYS: TEST_API_KEY, LOG_LEVEL: "silent" }),
    logger: createLogger("silent"),
    version: "0.0.0-test",
    ...(register ? { register } : {}),
  });
  await gateway.start();
  cleanups.push(() => gateway.stop());
  return gateway;
}

async function post(gateway: Gateway, body: unknown): Promise<Response> {
  return gateway.app.request("/messages", {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("the gateway's container", () => {
  it("builds the gateway on the adapters a test registers in its child container", async () => {
    const store = new MemoryMessageStore();
    const provider = new MemoryMessagingProvider("baileys", ["whatsapp"]);
    const gateway = await gatewayWith((container) => {
      container.register(MessageStore, { useValue: store });
      container.register(MessagingProviders, { useValue: [provider] });
    });

    const res = await post(gateway, { to: "+40712345678", text: "through the swapped store" });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    // The accepted message is in the registered store, and the dispatcher woke and sent it from there.
    expect((await store.get(id))?.text).toBe("through the swapped store");
    await eventually(async () => ((await store.get(id))?.status === "sent" ? true : undefined));
    expect(provider.sent.map((m) => m.id)).toEqual([id]);
  });

  it("runs the configured WhatsApp provider on the connector and session store a test registers", async () => {
    const logins = new MemorySessionStore();
    const connector = new ScriptedWhatsAppConnector(logins);
    connector.onConnect = (connection) => connection.open();
    const gateway = await gatewayWith((container) => {
      container.register(SessionStore, { useValue: logins });
      container.register(WhatsAppConnector, { useValue: connector });
    });

    // The default session was opened through the registered connector, not Baileys.
    await eventually(() => (gateway.sessions?.get("default")?.state === "open" ? true : undefined));
    expect(connector.connections.map((c) => c.session)).toEqual(["default"]);
    const res = await post(gateway, { to: "+40712345678", text: "through the swapped connector" });
    expect(res.status).toBe(202);
    await eventually(() => (connector.last.sent.length === 1 ? true : undefined));
    expect(connector.last.sent[0]?.text).toBe("through the swapped connector");
  });

  it("builds each gateway from containers of its own", async () => {
    const first = new MemoryMessagingProvider("baileys", ["whatsapp"]);
    const second = new MemoryMessagingProvider("baileys", ["whatsapp"]);
    const a = await gatewayWith((c) => c.register(MessagingProviders, { useValue: [first] }));
    const b = await gatewayWith((c) => c.register(MessagingProviders, { useValue: [second] }));
    expect(a.events).not.toBe(b.events);
    expect((await post(b, { to: "+40712345678", text: "to b" })).status).toBe(202);
    await eventually(() => (second.sent.length === 1 ? true : undefined));
    expect(first.sent).toEqual([]);
  });
});
