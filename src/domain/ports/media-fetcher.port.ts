import { DomainError } from "../errors.ts";
import { injectionToken, type InjectionToken } from "../injection-token.ts";

/**
 * Why a media URL could not be fetched. Each maps to one HTTP status
 * (`src/app/http/problem.ts`):
 * - `MEDIA.URL_INVALID` (400): not a URL, not http(s), or credentials in it.
 * - `MEDIA.URL_FORBIDDEN` (422): a well-formed URL the gateway refuses to
 *   fetch: its host is or resolves to a loopback, private, link-local, CGNAT,
 *   multicast, reserved or cloud-metadata address, or a redirect led there or
 *   from https down to http. 422 rather than 400: the request is valid, its
 *   target is not acceptable.
 * - `MEDIA.FETCH_FAILED` (502): the server answered with an error, too many
 *   redirects, or the connection failed or timed out; `retryable` says
 *   whether a later attempt can help.
 * - `MEDIA.TOO_LARGE` (413): the body is larger than `maxBytes`.
 */
export type MediaFetchErrorCode =
  "MEDIA.URL_INVALID" | "MEDIA.URL_FORBIDDEN" | "MEDIA.FETCH_FAILED" | "MEDIA.TOO_LARGE";

/** A media URL that was refused or could not be fetched. */
export class MediaFetchError extends DomainError {
  constructor(
    code: MediaFetchErrorCode,
    message: string,
    /** True for 5xx, 408, 429, timeouts and connection errors; false for refusals and other 4xx. */
    readonly retryable = false,
    /** The remote server's status, when it answered. */
    readonly status?: number,
  ) {
    super(code, message);
  }
}

export interface MediaFetchOptions {
  /** Past this many body bytes the fetch fails with `MEDIA.TOO_LARGE`. */
  readonly maxBytes: number;
  /** Aborts the fetch, connecting or streaming; the fetch then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * HTTP Basic credentials (Twilio's inbound media). Sent only to the URL's
   * own origin, never to another host, port or scheme a redirect leads to.
   */
  readonly credentials?: { readonly username: string; readonly password: string };
}

export interface FetchedMedia {
  /**
   * The body, read as it is consumed; it fails with `MEDIA.TOO_LARGE` once
   * more than `maxBytes` arrived, or with `MEDIA.FETCH_FAILED` on a timeout or
   * a cut connection. Stopping the iteration early closes the connection.
   */
  readonly stream: AsyncIterable<Uint8Array>;
  /** What the server says (`Content-Type`); a hint only, never trusted as the real type. */
  readonly contentType?: string;
  /** `Content-Length`, when announced (already checked against `maxBytes`). */
  readonly contentLength?: number;
  /** From `Content-Disposition`, else the last segment of the final URL's path; no directory part. */
  readonly filename?: string;
  /** The URL the body came from, after redirects. */
  readonly finalUrl: string;
}

/**
 * Fetches media from user-given URLs, safely: http(s) only, never from an
 * address that is not public (checked on the address actually connected to,
 * every redirect included), a few redirects at most, bounded in size and time.
 */
export interface MediaFetcher {
  /**
   * Opens `url` and answers once the response headers are in; the body is
   * streamed from `stream`. Rejects with a {@link MediaFetchError}.
   */
  fetch(url: string, options: MediaFetchOptions): Promise<FetchedMedia>;

  /**
   * Checks `url` without connecting: its syntax and scheme, and every address
   * its host resolves to. Lets a request with a URL that would be refused be
   * answered with a 4xx at once; `fetch` checks again when it connects.
   * Rejects with `MEDIA.URL_INVALID` or `MEDIA.URL_FORBIDDEN`, or with a
   * retryable `MEDIA.FETCH_FAILED` when the name cannot be resolved now.
   */
  check(url: string): Promise<void>;
}

export const MediaFetcher: InjectionToken<MediaFetcher> = injectionToken("MediaFetcher");
