import { startWhatsAppSimulator, type SimulatorOptions, type WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
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
 * The WhatsApp simulator, a local receiver of the gateway's signed webhooks,
 * and the gateway in this process on the real Baileys pointed at both.
 * `beforeStart` runs on the data dir before the gateway opens it (to seed a
 * login). Everything it starts is pushed to `cleanups`.
 */
export async function startWhatsAppGateway(
  cleanups: Array<() => Promise<void> | void>,
  options: {
    env?: Record<string, string>;
    simulator?: SimulatorOptions;
    beforeStart?: (sim: WhatsAppSimulator, dataDir: string) => Promise<unknown>;
  } = {},
): Promise<LinkedGateway> {
  const sim = await startWhatsAppSimulator(options.simulator);
  cleanups.push(() => sim.close());
  const secret = newWebhookSecret();
  const hooks = await WebhookReceiver.start(secret);
  cleanups.push(() => hooks.close());
  const dir = await tempDir();
  cleanups.push(dir.remove);
  await options.beforeStart?.(sim, dir.path);
  const gw = await startInProcessGateway(
    {
      GATEWAY_PROVIDERS: "baileys",
      WA_WEBSOCKET_URL: sim.wsUrl,
      WA_MEDIA_CA_FILE: sim.caFile,
      WEBHOOK_URL: hooks.url,
      WEBHOOK_SECRET: secret,
      ...options.env,
    },
    "configured",
    dir.path,
  );
  cleanups.push(() => gw.close());
  return { sim, gw, hooks };
}

/**
 * {@link startWhatsAppGateway} with session `default` already linked as
 * `phone` and open, and receipts left to the test.
 */
export async function startLinkedGateway(
  phone: string,
  cleanups: Array<() => Promise<void> | void>,
  env: Record<string, string> = {},
): Promise<LinkedGateway> {
  const linked = await startWhatsAppGateway(cleanups, {
    env,
    simulator: { receipts: { delivery: false, read: false } },
    beforeStart: (sim, dataDir) => seedLinkedSession(sim, dataDir, "default", phone),
  });
  await eventually(
    async () =>
      ((await (await linked.gw.call("GET", "/sessions/default")).json()) as { state: string }).state === "open",
    20_000,
    "session open",
  );
  return linked;
}
