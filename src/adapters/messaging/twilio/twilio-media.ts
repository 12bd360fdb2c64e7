import { ProviderError } from "../../../domain/errors.ts";
import type { MediaKind } from "../../../domain/media.ts";
import { MediaFetchError, type MediaFetcher } from "../../../domain/ports/media-fetcher.port.ts";
import type { MediaSource } from "../../../domain/ports/media-store.port.ts";
import { TWILIO_PROVIDER, type InboundMedia } from "../../../domain/ports/messaging-provider.port.ts";
import { rebase } from "./twilio-http-client.ts";

/** Twilio's REST API, where the media of incoming messages are served too. */
export const TWILIO_API_ORIGIN = "https://api.twilio.com";

// A guard for the download itself; the gateway's media store holds each file to its own limit.
const DEFAULT_MAX_BYTES = 100 * 1024 * 1024;

export interface TwilioMediaDownloadsOptions {
  readonly fetcher: MediaFetcher;
  readonly accountSid: string;
  readonly authToken: string;
  /** TWILIO_API_BASE_URL: media on api.twilio.com are fetched from there instead, like every API call. */
  readonly apiBaseUrl?: string | undefined;
  /** Largest download; default 100 MiB. */
  readonly maxBytes?: number | undefined;
}

/**
 * The files of an incoming message (`MediaUrlN`, `MediaContentTypeN`), as
 * the gateway opens them. Twilio serves them from its API, behind the
 * account's credentials (HTTP Basic: account SID and auth token) when the
 * account asks for it; the credentials are sent only to Twilio's own origin
 * (api.twilio.com, or TWILIO_API_BASE_URL when set), never to another host a
 * MediaUrl or a redirect names. Every download goes through the gateway's
 * `MediaFetcher`, so its address checks apply.
 */
export class TwilioMediaDownloads {
  readonly #base: URL | undefined;
  readonly #maxBytes: number;

  constructor(private readonly options: TwilioMediaDownloadsOptions) {
    this.#base = options.apiBaseUrl ? new URL(options.apiBaseUrl) : undefined;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** One file as the webhook named it; nothing is fetched until `open`. */
  file(url: string, contentType: string | undefined): InboundMedia {
    return {
      kind: mediaKindOf(contentType),
      // Twilio names no file and carries no caption per file: the message's Body is its text.
      ...(contentType ? { mimeType: contentType } : {}),
      open: () => this.#open(url),
    };
  }

  async #open(mediaUrl: string): Promise<MediaSource> {
    const url = this.#target(mediaUrl);
    const { accountSid, authToken } = this.options;
    try {
      const fetched = await this.options.fetcher.fetch(url, {
        maxBytes: this.#maxBytes,
        ...(this.#isTwilio(url) ? { credentials: { username: accountSid, password: authToken } } : {}),
      });
      return fetched.stream;
    } catch (error) {
      throw downloadFailure(error, mediaUrl);
    }
  }

  /** With a base URL set, Twilio's own media URLs go where its API calls go (the fake, an egress proxy). */
  #target(mediaUrl: string): string {
    if (!this.#base) return mediaUrl;
    let parsed: URL;
    try {
      parsed = new URL(mediaUrl);
    } catch {
      return mediaUrl; // the fetcher refuses it with its own reason
    }
    return parsed.origin === TWILIO_API_ORIGIN ? rebase(mediaUrl, this.#base) : mediaUrl;
  }

  #isTwilio(url: string): boolean {
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      return false;
    }
    return this.#base ? origin === this.#base.origin : origin === TWILIO_API_ORIGIN;
  }
}

/** What a file is from the type Twilio announced: Twilio has no kinds, WhatsApp's names are ours. */
export function mediaKindOf(contentType: string | undefined): MediaKind {
  const type = (contentType ?? "").trim().toLowerCase();
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("video/")) return "video";
  if (type.startsWith("audio/")) return "audio";
  return "document";
}

/**
 * Why a file could not be opened, as the intake reads it. A file over the
 * size limit stays `MEDIA.TOO_LARGE` (the same bytes will not shrink). A
 * 401 is retryable, as it is for sends: the account's credentials are at
 * fault, not the file. Otherwise the fetch decides (5xx, 408, 429,
 * timeouts and connection errors are retryable).
 */
function downloadFailure(error: unknown, mediaUrl: string): Error {
  if (error instanceof MediaFetchError) {
    if (error.code === "MEDIA.TOO_LARGE") return error;
    const retryable = error.retryable || error.status === 401;
    return new ProviderError(
      TWILIO_PROVIDER,
      `could not download ${mediaUrl}: ${error.message}`,
      retryable,
      error.status === undefined ? undefined : String(error.status),
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new ProviderError(TWILIO_PROVIDER, `could not download ${mediaUrl}: ${reason}`, true);
}
