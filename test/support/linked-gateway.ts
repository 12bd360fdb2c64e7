import { startWhatsAppSimulator, type WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { eventually, startInProcessGateway, type InProcessGateway } from "./in-process-gateway.ts";
import { seedLinkedSession } from "./linked-session.ts";
import { tempDir } from "./temp-dir.ts";
import { newWebhookSecret, WebhookReceiver } from "./webhook-receiver.ts";

export interface LinkedGateway {
  readonly sim: WhatsAppSimulator;
  readonly gw: InProcessGateway;
  /** Receives the gateway's signed webhooks. */
  readonly hooks: WebhookReceiver;
}

/**
 * The WhatsApp simulator, and the gateway in this process on the real Baileys
 * with session `default` already linked as `phone` and open, sending its
 * webhooks to a local receiver. Everything it starts is pushed to `cleanups`.
 */
export async function startLinkedGateway(
  phone: string,
  cleanups: Array<() => Promise<void> | void>,
  env: Record<string, string> = {},
): Promise<LinkedGateway> {
  const sim = await startWhatsAppSimulator({ receipts: { delivery: false, read: false } });
  cleanups.push(() => sim.close());
  const secret = newWebhookSecret();
  const hooks = await WebhookReceiver.start(secret);
  cleanups.push(() => hooks.close());
  const dir = await tempDir();
  cleanups.push(dir.remove);
  await seedLinkedSession(sim, dir.path, "default", phone);
  const gw = await startInProcessGateway(
    {
      GATEWAY_PROVIDERS: "baileys",
      WA_WEBSOCKET_URL: sim.wsUrl,
      WA_MEDIA_CA_FILE: sim.caFile,
      WEBHOOK_URL: hooks.url,
      WEBHOOK_SECRET: secret,
      ...env,
    },
    "configured",
    dir.path,
  );
  cleanups.push(() => gw.close());
  await eventually(
    async () => ((await (await gw.call("GET", "/sessions/default")).json()) as { state: string }).state === "open",
    20_000,
    "session open",
  );
  return { sim, gw, hooks };
}
