import { ProviderError } from "../../../domain/errors.ts";
import { BAILEYS_PROVIDER } from "../../../domain/ports/messaging-provider.port.ts";
import { boomStatusCode } from "./disconnect-mapping.ts";

/**
 * 4xx codes that describe the connection, not the message: closed (428),
 * timed out (408), logged out or not yet authenticated (401), replaced (440),
 * rate limited (429). Sending again on a good connection can work.
 */
const RETRYABLE_4XX = new Set([401, 408, 428, 429, 440]);

/** Whether a WhatsApp/Baileys status code leaves a later attempt a chance. */
export function isRetryableCode(code: number): boolean {
  return code >= 500 || RETRYABLE_4XX.has(code);
}

/**
 * A send failure as a ProviderError. Boom errors keep their status code as
 * `providerCode`: connection-level and server-side codes (see
 * `isRetryableCode`) are retryable, other 4xx codes (bad request, forbidden,
 * not found, a negative ack such as 463 or 479) are terminal. An error
 * without a code (a socket error, an encryption bug) is retryable: the
 * dispatcher bounds the attempts, and the derived message id keeps a
 * repeated send from producing a second message.
 */
export function toProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = boomStatusCode(error);
  if (code === undefined) return new ProviderError(BAILEYS_PROVIDER, message, true);
  return new ProviderError(BAILEYS_PROVIDER, message, isRetryableCode(code), String(code));
}
