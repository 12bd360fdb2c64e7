import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { StoreUnavailableError, type DomainError, type ErrorCode, type FieldIssue } from "../../domain/errors.ts";

/** The one table that maps error codes to HTTP statuses. */
export const httpStatusOf: Readonly<Record<ErrorCode, ContentfulStatusCode>> = {
  "REQUEST.INVALID": 400,
  "REQUEST.MALFORMED_JSON": 400,
  "REQUEST.UNSUPPORTED_MEDIA_TYPE": 415,
  "REQUEST.TOO_LARGE": 413,
  "REQUEST.TIMEOUT": 503,
  "REQUEST.RATE_LIMITED": 429,
  "ROUTE.NOT_FOUND": 404,
  "METHOD.NOT_ALLOWED": 405,
  "AUTH.UNAUTHORIZED": 401,
  "ADDRESS.INVALID": 400,
  "MESSAGE.NOT_FOUND": 404,
  "MESSAGE.EDIT_WINDOW_CLOSED": 409,
  "MESSAGE.NOT_EDITABLE": 409,
  "MESSAGE.NOT_DELETABLE": 409,
  "MESSAGE.NOT_SUPPORTED": 422,
  "GROUP.NOT_FOUND": 404,
  "GROUP.NOT_ADMIN": 403,
  "GROUP.INVALID_PARTICIPANT": 400,
  "SESSION.NOT_FOUND": 404,
  "SESSION.ALREADY_EXISTS": 409,
  "SESSION.LIMIT_REACHED": 409,
  // Cluster mode: a queue write by an instance whose lease on the session was taken over (fencing).
  "SESSION.LEASE_LOST": 409,
  "SESSION.NO_QR": 404,
  "SESSION.NOT_SUPPORTED": 400,
  // Cluster mode: another instance took the session over (a newer fencing token); nothing was written.
  "PROVIDER.NOT_ENABLED": 400,
  "PROVIDER.UNAVAILABLE": 503,
  "PROVIDER.REJECTED": 502,
  "IDEMPOTENCY.CONFLICT": 409,
  "WEBHOOK.SIGNATURE_INVALID": 403,
  "WEBHOOK.DELIVERY_NOT_FOUND": 404,
  "WEBHOOK.NOT_PARKED": 409,
  "SERVICE.SHUTTING_DOWN": 503,
  "STORE.UNAVAILABLE": 503,
  "MEDIA.TOO_LARGE": 413,
  "MEDIA.UNSUPPORTED_TYPE": 422,
  "MEDIA.NOT_FOUND": 404,
  "MEDIA.TOO_MANY": 400,
  "MEDIA.URL_INVALID": 400,
  "MEDIA.URL_FORBIDDEN": 422,
  "MEDIA.FETCH_FAILED": 502,
  // A public media link with a bad, missing or outdated signature: refused, like any request without its credential.
  "MEDIA.LINK_INVALID": 403,
  "MEDIA.LINK_EXPIRED": 403,
  INTERNAL: 500,
};

const titles: Partial<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/** Seconds a client waits before trying again after STORE.UNAVAILABLE, unless the error says otherwise. */
const STORE_RETRY_AFTER_S = 5;

/**
 * The problem document of a domain error; STORE.UNAVAILABLE (a store's disk
 * is full or failing) carries `Retry-After`, since the same request will
 * succeed once the store resumes.
 */
export function domainProblem(c: Context, error: DomainError): Response {
  const headers: Record<string, string> = {};
  if (error.code === "STORE.UNAVAILABLE") {
    headers["retry-after"] = String(error instanceof StoreUnavailableError ? error.retryAfterS : STORE_RETRY_AFTER_S);
  }
  return problem(c, error.code, error.message, error.issues, headers);
}

/**
 * An RFC 9457 problem document. `type` is a stable URN built from the code,
 * so clients can match on either `type` or `code`.
 */
export function problem(
  c: Context,
  code: ErrorCode,
  detail: string,
  issues: readonly FieldIssue[] = [],
  headers: Record<string, string> = {},
): Response {
  const status = httpStatusOf[code];
  const body = {
    type: `urn:gateway:problem:${code.toLowerCase()}`,
    title: titles[status] ?? "Error",
    status,
    code,
    detail,
    instance: c.req.path,
    ...(issues.length > 0 ? { errors: issues } : {}),
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}
