import { ProviderError } from "../../../domain/errors.ts";
import { TWILIO_PROVIDER } from "../../../domain/ports/messaging-provider.port.ts";

/**
 * Turns whatever the `twilio` library threw into a `ProviderError`.
 *
 * - An HTTP answer from Twilio (`RestException`, or the newer RFC 9457
 *   `TwilioServiceException`): 429 and 5xx are retryable; 401 too (the
 *   message is not at fault, the account is: retrying gives an operator the
 *   time to fix the credentials, and after the dispatcher's last attempt the
 *   message still fails with Twilio's 20003 on it). Every other 4xx is a
 *   verdict on this message (21211 invalid To, 21610 unsubscribed, 63016
 *   outside the WhatsApp 24 h window, 21408, 21614, ...): terminal, with
 *   Twilio's code and message kept.
 * - Anything else (connection refused, reset, timeout, DNS) never reached a
 *   verdict: retryable.
 *
 * Only the code and message are copied: the library's network errors carry
 * the request config, Basic auth header included, so the original error is
 * never attached or logged.
 */
export function toProviderError(error: unknown): ProviderError {
  const http = httpFailure(error);
  if (http) {
    const retryable = http.status === 429 || http.status === 401 || http.status >= 500;
    const message = http.message || `Twilio answered HTTP ${http.status}`;
    return new ProviderError(
      TWILIO_PROVIDER,
      message,
      retryable,
      http.code === undefined ? undefined : String(http.code),
    );
  }
  const code = typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : undefined;
  const reason = error instanceof Error ? error.message : String(error);
  return new ProviderError(
    TWILIO_PROVIDER,
    `could not reach the Twilio API${code ? ` (${code})` : ""}: ${reason}`,
    true,
  );
}

interface HttpFailure {
  readonly status: number;
  readonly code: number | undefined;
  readonly message: string;
}

// Duck-typed: the library exports RestException but not TwilioServiceException,
// and both carry a numeric HTTP `status`. Axios network errors are excluded
// explicitly since they may carry a `status` of their own.
function httpFailure(error: unknown): HttpFailure | undefined {
  if (!(error instanceof Error)) return undefined;
  const e = error as Error & { status?: unknown; code?: unknown; detail?: unknown; isAxiosError?: unknown };
  if (e.isAxiosError === true || typeof e.status !== "number") return undefined;
  const code = typeof e.code === "number" ? e.code : undefined;
  const message = typeof e.detail === "string" && e.detail ? e.detail : e.message;
  return { status: e.status, code, message };
}
