import { createLogger } from "../../src/app/logger.ts";
import { WhatsAppProvider } from "../../src/app/sessions/whatsapp-provider.ts";
import { MemorySessionStore } from "../fakes/memory-session-store.ts";
import { ScriptedWhatsAppConnector } from "../fakes/scripted-whatsapp-connector.ts";
import { startInProcessGateway, TEST_API_KEY, type InProcessGateway } from "../support/in-process-gateway.ts";
import { startTwilioGateway, type TwilioGateway } from "../support/twilio-gateway.ts";
import { newWebhookSecret } from "../support/webhook-receiver.ts";

/** The gateways the fuzz runs against, one of each kind, kept for the whole run (state builds up like in production). */
export interface FuzzTargets {
  /** The in-memory provider: the messages routes, and the webhook deliveries routes (webhooks out configured). */
  readonly memory: InProcessGateway;
  /** A WhatsApp provider with sessions (scripted connector, sessions in memory): the /sessions routes. */
  readonly sessions: InProcessGateway;
  /** The real Twilio provider against the fake REST API: its webhooks and SMS sends. */
  readonly twilio: TwilioGateway;
  /** A rate limit of 1/s (burst 5): nearly every answer is a 429, checked against the contract like any other. */
  readonly limited: InProcessGateway;
  readonly apiKey: string;
  close(): Promise<void>;
}

export type TargetName = "memory" | "sessions" | "twilio" | "limited";

// `normal`: the fuzz asserts answers, not durability; fsync per message would dominate its run time.
const FAST_ENV = { SQLITE_SYNCHRONOUS: "normal" };

export async function startFuzzTargets(): Promise<FuzzTargets> {
  // Webhooks out to a port nobody listens on: deliveries fail, park after one attempt, and their routes have data.
  const memory = await startInProcessGateway({
    ...FAST_ENV,
    WEBHOOK_URL: "http://127.0.0.1:9/hooks",
    WEBHOOK_SECRET: newWebhookSecret(),
    WEBHOOK_MAX_ATTEMPTS: "1",
    WEBHOOK_TIMEOUT_MS: "200",
  });
  const sessions = await startInProcessGateway({ ...FAST_ENV, GATEWAY_PROVIDERS: "baileys" }, [whatsAppProvider()]);
  const twilio = await startTwilioGateway(FAST_ENV);
  const limited = await startInProcessGateway({ ...FAST_ENV, RATE_LIMIT_PER_SECOND: "1", RATE_LIMIT_BURST: "5" });
  return {
    memory,
    sessions,
    twilio,
    limited,
    apiKey: TEST_API_KEY,
    async close() {
      await Promise.allSettled([memory.close(), sessions.close(), twilio.close(), limited.close()]);
    },
  };
}

export function appOf(targets: FuzzTargets, name: TargetName): InProcessGateway["gateway"]["app"] {
  return name === "twilio" ? targets.twilio.gw.gateway.app : targets[name].gateway.app;
}

/**
 * The real WhatsAppProvider and supervisors over a scripted connector: a
 * session whose id starts with "o" links at once, any other shows a QR (so
 * GET /qr answers both a QR and 404, and pairing codes are asked of real
 * supervisors).
 */
function whatsAppProvider(): WhatsAppProvider {
  const connector = new ScriptedWhatsAppConnector();
  connector.onConnect = (connection) => {
    if (connection.session.startsWith("o")) connection.open();
    else
      connection.emit({
        type: "qr",
        qr: `2@${connection.session},fuzz-ref,noise,identity`,
        expiresAt: new Date(Date.now() + 3_600_000),
      });
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
