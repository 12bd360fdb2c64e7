import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/app/logger.ts";
import { WhatsAppProvider } from "../../src/app/sessions/whatsapp-provider.ts";
import { MemorySessionStore } from "../fakes/memory-session-store.ts";
import { ScriptedWhatsAppConnector } from "../fakes/scripted-whatsapp-connector.ts";
import { startInProcessGateway, type InProcessGateway } from "../support/in-process-gateway.ts";

let gw: InProcessGateway | undefined;
const releases: Array<() => void> = [];
afterEach(async () => {
  for (const release of releases.splice(0)) release();
  await gw?.close();
  gw = undefined;
});

/** A WhatsApp provider whose pairing-code requests hang until the test releases them: a slow handler. */
function slowPairingProvider(): WhatsAppProvider {
  const connector = new ScriptedWhatsAppConnector();
  connector.onConnect = (connection) => {
    connection.emit({ type: "qr", qr: "2@slow,ref", expiresAt: new Date(Date.now() + 60_000) });
    connection.requestPairingCode = () => new Promise<string>((resolve) => releases.push(() => resolve("LATE1234")));
  };
  return new WhatsAppProvider({
    connector,
    store: new MemorySessionStore(),
    logger: createLogger("silent"),
    defaultSession: "default",
    settings: {
      backoffBaseMs: 10,
      backoffMaxMs: 50,
      replacedCooldownMs: 10,
      replacedMaxReconnects: 1,
      replacedWindowMs: 60_000,
    },
  });
}

describe("REQUEST_TIMEOUT_MS", () => {
  it("answers 503 REQUEST.TIMEOUT for a handler slower than the limit, and the gateway keeps serving", async () => {
    gw = await startInProcessGateway({ GATEWAY_PROVIDERS: "baileys", REQUEST_TIMEOUT_MS: "200" }, [
      slowPairingProvider(),
    ]);
    const res = await gw.call("POST", "/sessions/default/pairing-code", { body: { phone: "+40712345678" } });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({
      code: "REQUEST.TIMEOUT",
      status: 503,
      detail: "the request took longer than 200 ms",
    });
    expect(releases).toHaveLength(1); // the handler really was still waiting

    // The late answer lands nowhere and breaks nothing; fast requests still answer.
    releases.shift()!();
    await new Promise((r) => setTimeout(r, 20));
    expect((await gw.call("GET", "/sessions/default")).status).toBe(200);
    expect((await gw.call("GET", "/messages")).status).toBe(200);
  });

  it("lets a handler that finishes in time answer normally", async () => {
    gw = await startInProcessGateway({ GATEWAY_PROVIDERS: "baileys", REQUEST_TIMEOUT_MS: "5000" }, [
      slowPairingProvider(),
    ]);
    const pending = gw.call("POST", "/sessions/default/pairing-code", { body: { phone: "+40712345678" } });
    while (releases.length === 0) await new Promise((r) => setTimeout(r, 10));
    releases.shift()!();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ code: "LATE1234" });
  });
});
