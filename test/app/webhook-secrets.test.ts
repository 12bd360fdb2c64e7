import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { buildGateway } from "../../src/app/composition/gateway.ts";
import { ConfigError, loadConfig } from "../../src/app/config/load-config.ts";
import { createLogger } from "../../src/app/logger.ts";
import { MessagingProviders } from "../../src/domain/ports/messaging-provider.port.ts";
import { MemoryMessagingProvider } from "../fakes/memory-messaging-provider.ts";
import { eventually, TEST_API_KEY } from "../support/in-process-gateway.ts";
import { tempDir } from "../support/temp-dir.ts";
import { newWebhookSecret, WebhookReceiver } from "../support/webhook-receiver.ts";

const url = "http://127.0.0.1:9/hooks";

function configProblems(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("webhook configuration", () => {
  it("requires WEBHOOK_SECRET with WEBHOOK_URL, naming it", () => {
    expect(configProblems({ WEBHOOK_URL: url })).toContain("WEBHOOK_SECRET: is required when WEBHOOK_URL is set");
  });

  it.each([
    ["not in whsec_ form", "a-plain-password-that-is-long-enough"],
    ["not base64", "whsec_!!!!notbase64!!!!notbase64!!!!"],
    ["too short", `whsec_${Buffer.alloc(16, 1).toString("base64")}`],
  ])("refuses a secret %s without echoing it", (_why, secret) => {
    const message = configProblems({ WEBHOOK_URL: url, WEBHOOK_SECRET: secret });
    expect(message).toMatch(/WEBHOOK_SECRET: must/);
    expect(message).not.toContain(secret);
  });

  it("accepts a whsec_ secret and applies the defaults", () => {
    const config = loadConfig({ WEBHOOK_URL: url, WEBHOOK_SECRET: newWebhookSecret() });
    expect(config).toMatchObject({ WEBHOOK_MAX_ATTEMPTS: 8, WEBHOOK_TIMEOUT_MS: 10_000, WEBHOOK_CONCURRENCY: 4 });
  });
});

describe("webhook secret in logs", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("never appears in any log line, at trace level, through failures, parking and success", async () => {
    const secret = newWebhookSecret();
    const hooks = await WebhookReceiver.start(secret);
    cleanups.push(() => hooks.close());
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString("utf8")), done()) });
    const config = loadConfig({
      DATA_DIR: dir.path,
      API_KEYS: TEST_API_KEY,
      WEBHOOK_URL: hooks.url,
      WEBHOOK_SECRET: secret,
      WEBHOOK_MAX_ATTEMPTS: "2",
      WEBHOOK_BACKOFF_BASE_MS: "10",
      WEBHOOK_BACKOFF_MAX_MS: "20",
    });
    const gateway = await buildGateway({
      config,
      logger: createLogger("trace", sink),
      version: "0.0.0-test",
      register: (c) =>
        c.register(MessagingProviders, { useValue: [new MemoryMessagingProvider("baileys", ["whatsapp"])] }),
    });
    await gateway.start();
    hooks.answer(500, 500, 500);
    const session = {
      id: "default",
      provider: "baileys",
      state: "open",
      me: null,
      lastDisconnect: null,
      reconnects: 0,
      reconnectAttempts: 0,
      lastRecoveryMs: null,
    } as const;
    gateway.events.publish({ type: "session.state", session });
    gateway.events.publish({ type: "session.state", session: { ...session, state: "reconnecting" } });
    await eventually(() => hooks.received.some((r) => r.answer === 200) || undefined);
    await eventually(() => lines.some((l) => l.includes("parked")) || undefined);
    await gateway.stop();

    const output = lines.join("");
    expect(output).toContain("webhooks: attempt failed; will retry");
    expect(output).not.toContain(secret);
    expect(output).not.toContain(secret.slice("whsec_".length));
  });
});
