import type { MessagingProvider } from "../../domain/ports/messaging-provider.port.ts";
import type { Config } from "../config/config.schema.ts";
import type { Logger } from "../logger.ts";

/**
 * Builds the providers GATEWAY_PROVIDERS names. A provider's module is only
 * imported when it is enabled, so a Twilio-only process never loads Baileys.
 */
export function createProviders(config: Config, logger: Logger): MessagingProvider[] {
  const providers: MessagingProvider[] = [];
  for (const id of config.GATEWAY_PROVIDERS) {
    logger.warn({ provider: id }, "provider is not available in this build yet; messages for it stay queued");
  }
  return providers;
}
