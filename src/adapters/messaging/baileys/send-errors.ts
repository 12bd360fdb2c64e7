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
 * A send failure as a ProviderError. Boom errors keep their status code (a
 * query's error answer its own code, see iqErrorCode) as
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
  const code = iqErrorCode(error) ?? boomStatusCode(error);
  if (code === undefined) return new ProviderError(BAILEYS_PROVIDER, message, true);
  return new ProviderError(BAILEYS_PROVIDER, message, isRetryableCode(code), String(code));
}

/**
 * The code of a WhatsApp `<error>` answer to a query: Baileys throws it as
 * a Boom whose `data` holds the code (its status code is then a generic 500),
 * or, for a group's metadata, as the Boom's status code with the error node
 * as data.
 */
export function iqErrorCode(error: unknown): number | undefined {
  const data = (error as { data?: unknown } | null | undefined)?.data;
  if (typeof data === "number" && Number.isInteger(data)) return data;
  if (data && typeof data === "object" && (data as { tag?: unknown }).tag === "error") return boomStatusCode(error);
  return undefined;
}
