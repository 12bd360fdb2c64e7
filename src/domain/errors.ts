/**
 * Stable error codes. Clients match on these strings, so a code is never
 * renamed once released; the HTTP layer maps each one to a status.
 */
export const ErrorCodes = [
  "REQUEST.INVALID",
  "REQUEST.MALFORMED_JSON",
  "REQUEST.UNSUPPORTED_MEDIA_TYPE",
  "REQUEST.TOO_LARGE",
  "REQUEST.TIMEOUT",
  "REQUEST.RATE_LIMITED",
  "ROUTE.NOT_FOUND",
  "METHOD.NOT_ALLOWED",
  "AUTH.UNAUTHORIZED",
  "ADDRESS.INVALID",
  "MESSAGE.NOT_FOUND",
  "MESSAGE.EDIT_WINDOW_CLOSED",
  "MESSAGE.NOT_EDITABLE",
  "MESSAGE.NOT_DELETABLE",
  "MESSAGE.NOT_SUPPORTED",
  "GROUP.NOT_FOUND",
  "GROUP.NOT_ADMIN",
  "GROUP.INVALID_PARTICIPANT",
  "SESSION.NOT_FOUND",
  "SESSION.ALREADY_EXISTS",
  "SESSION.NO_QR",
  "SESSION.NOT_SUPPORTED",
  "SESSION.LIMIT_REACHED",
  "SESSION.LEASE_LOST",
  "PROVIDER.NOT_ENABLED",
  "PROVIDER.UNAVAILABLE",
  "PROVIDER.REJECTED",
  "IDEMPOTENCY.CONFLICT",
  "WEBHOOK.SIGNATURE_INVALID",
  "WEBHOOK.DELIVERY_NOT_FOUND",
  "WEBHOOK.NOT_PARKED",
  "SERVICE.SHUTTING_DOWN",
  "STORE.UNAVAILABLE",
  "MEDIA.TOO_LARGE",
  "MEDIA.UNSUPPORTED_TYPE",
  "MEDIA.NOT_FOUND",
  "MEDIA.TOO_MANY",
  "MEDIA.URL_INVALID",
  "MEDIA.URL_FORBIDDEN",
  "MEDIA.FETCH_FAILED",
  "MEDIA.LINK_INVALID",
  "MEDIA.LINK_EXPIRED",
  "INTERNAL",
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

/** One offending input field, named by its path in the request (`to`, `metadata.x`). */
export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

/** An expected failure with a stable code (bad input, unknown id, conflict). */
export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(message);
  }
}

/**
 * A provider refused or failed a send. `retryable` tells the dispatcher
 * whether trying again can help (network, 5xx, rate limit) or not (invalid
 * recipient, unsubscribed).
 */
export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    readonly providerId: string,
    message: string,
    readonly retryable: boolean,
    /** The provider's own code (Twilio's 21211, a WhatsApp status), if any. */
    readonly providerCode?: string,
  ) {
    super(message);
  }
}

/** What a failed attempt leaves on a message. */
export interface MessageError {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  readonly providerCode?: string;
}
