import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { HttpMediaFetcher } from "../../adapters/media-fetch/http/http.media-fetcher.ts";
import type { MediaFetcher } from "../../domain/ports/media-fetcher.port.ts";
import type { MediaStore } from "../../domain/ports/media-store.port.ts";
import {
  BAILEYS_PROVIDER,
  TWILIO_PROVIDER,
  type MessagingProvider,
} from "../../domain/ports/messaging-provider.port.ts";
import type { PublicMediaLinks } from "../../domain/ports/public-media-links.port.ts";
import type { SessionStore } from "../../domain/ports/session-store.port.ts";
import type { WhatsAppConnector } from "../../domain/ports/whatsapp-connector.port.ts";
import type { Config } from "../config/config.schema.ts";
import { providerWebhookPath } from "../http/provider-webhooks.routes.ts";
import type { Logger } from "../logger.ts";
import type { RecoveryRecord } from "../sessions/session-supervisor.ts";
import { WhatsAppProvider } from "../sessions/whatsapp-provider.ts";

export interface ProviderHooks {
  readonly onRecovery?: (record: RecoveryRecord) => void;
  /** Links Twilio fetches outbound media by; registered whenever PUBLIC_BASE_URL is set, which Twilio requires. */
  readonly publicMediaLinks?: PublicMediaLinks | undefined;
  /** Replaces the fetcher of Twilio's inbound media built from the configuration (tests keep it on this machine). */
  readonly twilioMediaFetcher?: MediaFetcher | undefined;
}

/**
 * The Baileys connector, over the session store that keeps its logins and
 * the media store its messages' files are read from (imported only when
 * Baileys is enabled).
 */
export async function createWhatsAppConnector(
  config: Config,
  logger: Logger,
  sessionStore: SessionStore,
  mediaStore: MediaStore,
): Promise<WhatsAppConnector> {
  const { BaileysConnector } = await import("../../adapters/messaging/baileys/baileys.connector.ts");
  return new BaileysConnector({
    store: sessionStore,
    logger: logger.child({ component: BAILEYS_PROVIDER }),
    baileysLogLevel: config.BAILEYS_LOG_LEVEL,
    keepAliveIntervalMs: config.WA_KEEPALIVE_INTERVAL_MS,
    ...(config.WA_WEBSOCKET_URL ? { waWebSocketUrl: config.WA_WEBSOCKET_URL } : {}),
    media: mediaStore,
    // Read at start: a CA file that is missing stops the gateway here, not at the first file.
    ...(config.WA_MEDIA_CA_FILE ? { mediaCa: await readFile(config.WA_MEDIA_CA_FILE) } : {}),
  });
}

/** What the WhatsApp provider runs on: the logins' store and the connector that opens their sockets. */
export interface WhatsAppLogins {
  readonly store: SessionStore;
  readonly connector: WhatsAppConnector;
}

/**
 * Builds the providers GATEWAY_PROVIDERS names. A provider's adapter module is
 * imported only when the provider is enabled, so a Twilio-only process never
 * loads Baileys.
 */
export async function createProviders(
  config: Config,
  logger: Logger,
  logins: WhatsAppLogins | undefined,
  hooks: ProviderHooks = {},
): Promise<MessagingProvider[]> {
  const providers: MessagingProvider[] = [];
  for (const id of config.GATEWAY_PROVIDERS) {
    if (id === BAILEYS_PROVIDER) {
      if (!logins) throw new Error("the baileys provider needs a session store and a connector");
      const { store: sessionStore, connector } = logins;
      providers.push(
        new WhatsAppProvider({
          connector,
          store: sessionStore,
          logger: logger.child({ component: "sessions" }),
          defaultSession: config.DEFAULT_SESSION,
          maxSessions: config.MAX_SESSIONS,
          sendWindow: config.WA_SEND_WINDOW,
          connectsPerSecond: config.WA_CONNECTS_PER_SECOND,
          settings: {
            backoffBaseMs: config.RECONNECT_BACKOFF_BASE_MS,
            backoffMaxMs: config.RECONNECT_BACKOFF_MAX_MS,
            replacedCooldownMs: config.REPLACED_COOLDOWN_MS,
            replacedMaxReconnects: config.REPLACED_MAX_RECONNECTS,
            replacedWindowMs: config.REPLACED_WINDOW_MS,
          },
          ...hooks,
        }),
      );
    } else if (id === TWILIO_PROVIDER) {
      const { TwilioProvider } = await import("../../adapters/messaging/twilio/twilio.provider.ts");
      // The schema guarantees these when twilio is enabled; a miss here is a bug.
      if (!config.TWILIO_ACCOUNT_SID || !config.TWILIO_AUTH_TOKEN || !config.PUBLIC_BASE_URL) {
        throw new Error("the twilio provider needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL");
      }
      if (!hooks.publicMediaLinks) throw new Error("the twilio provider needs public media links");
      providers.push(
        new TwilioProvider({
          accountSid: config.TWILIO_ACCOUNT_SID,
          authToken: config.TWILIO_AUTH_TOKEN,
          from: config.TWILIO_FROM,
          messagingServiceSid: config.TWILIO_MESSAGING_SERVICE_SID,
          statusCallbackUrl: `${config.PUBLIC_BASE_URL}${providerWebhookPath(TWILIO_PROVIDER, "status")}`,
          apiBaseUrl: config.TWILIO_API_BASE_URL,
          publicMediaLinks: hooks.publicMediaLinks,
          mediaFetcher: hooks.twilioMediaFetcher ?? twilioMediaFetcher(config),
          logger: logger.child({ component: id }),
        }),
      );
    } else {
      logger.warn({ provider: id }, "provider is not available in this build yet; messages for it stay queued");
    }
  }
  return providers;
}

/**
 * What downloads Twilio's inbound media: the gateway's usual address checks,
 * with one exception when TWILIO_API_BASE_URL (a testing and proxy setting)
 * points at an IP address that is not public: exactly that address and port.
 */
export function twilioMediaFetcher(config: Config): MediaFetcher {
  const base = config.TWILIO_API_BASE_URL ? new URL(config.TWILIO_API_BASE_URL) : undefined;
  const ip = base?.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = base && (base.port || (base.protocol === "https:" ? "443" : "80"));
  const allowAddresses = ip && isIP(ip) !== 0 ? [`${base!.hostname}:${port}`] : [];
  return new HttpMediaFetcher({ allowAddresses });
}
