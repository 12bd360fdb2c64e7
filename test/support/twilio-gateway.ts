import { createProviders } from "../../src/app/composition/providers.ts";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createLogger } from "../../src/app/logger.ts";
import type { MessagingProvider } from "../../src/domain/ports/messaging-provider.port.ts";
import { FakeTwilioApi } from "../fakes/twilio/fake-twilio-api.ts";
import { signedWebhook, type SignOptions } from "../fakes/twilio/signed-webhooks.ts";
import { startInProcessGateway, type InProcessGateway } from "./in-process-gateway.ts";

export const TWILIO_FROM = "+15550001111";
/** As behind a TLS-terminating proxy that strips a path prefix: not the URL the app sees. */
export const PUBLIC_BASE_URL = "https://gateway.example.test/msg";

export interface TwilioGateway {
  readonly gw: InProcessGateway;
  readonly fake: FakeTwilioApi;
  /** Posts a webhook signed like Twilio over PUBLIC_BASE_URL + path + query (or `signUrl`). */
  webhook(
    kind: "inbound" | "status",
    params: Record<string, string>,
    options?: SignOptions & { query?: string; signUrl?: string },
  ): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The real gateway in process with the real Twilio provider, built by
 * createProviders from the configuration (the `twilio` library doing real
 * HTTP against the fake REST API), plus any `others` (in-memory Baileys).
 */
export async function startTwilioGateway(
  env: Record<string, string> = {},
  others: MessagingProvider[] = [],
): Promise<TwilioGateway> {
  const fake = new FakeTwilioApi();
  await fake.start();
  const fullEnv: Record<string, string> = {
    GATEWAY_PROVIDERS: others.length > 0 ? "baileys,twilio" : "twilio",
    TWILIO_ACCOUNT_SID: fake.accountSid,
    TWILIO_AUTH_TOKEN: fake.authToken,
    TWILIO_FROM,
    PUBLIC_BASE_URL,
    TWILIO_API_BASE_URL: fake.url,
    ...env,
  };
  const twilioConfig = loadConfig({ ...fullEnv, GATEWAY_PROVIDERS: "twilio", WHATSAPP_PROVIDER: "twilio" });
  const twilio = await createProviders(twilioConfig, createLogger("silent"), undefined);
  const gw = await startInProcessGateway(fullEnv, [...others, ...twilio]);
  return {
    gw,
    fake,
    webhook(kind, params, options = {}) {
      const query = options.query ?? "";
      const url = options.signUrl ?? `${PUBLIC_BASE_URL}/webhooks/twilio/${kind}${query}`;
      const { body, headers } = signedWebhook(fake.authToken, url, params, options);
      return gw.call("POST", `/webhooks/twilio/${kind}${query}`, { raw: body, headers, auth: false });
    },
    async close() {
      await gw.close();
      await fake.close();
    },
  };
}
