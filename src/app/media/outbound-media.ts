import type { Channel } from "../../domain/address.ts";
import { DomainError, type FieldIssue } from "../../domain/errors.ts";
import {
  checkMediaType,
  inferMediaKind,
  isHeld,
  maxAttachments,
  mediaFromUrl,
  mediaNotFound,
  mediaTooLarge,
  type MediaKind,
  type MediaLimits,
  type MessageMedia,
} from "../../domain/media.ts";
import type { Message } from "../../domain/message.ts";
import type { Clock } from "../../domain/ports/clock.port.ts";
import { MediaFetchError, type MediaFetcher } from "../../domain/ports/media-fetcher.port.ts";
import type { MediaStore } from "../../domain/ports/media-store.port.ts";
import type { MessageStore } from "../../domain/ports/message-store.port.ts";
import { PreparationError } from "../dispatcher/preparation-error.ts";
import { StoreMedia } from "../use-cases/store-media.ts";

/** Kinds WhatsApp shows without any caption: text given with them would be lost. */
const UNCAPTIONED_ON_WHATSAPP: ReadonlySet<MediaKind> = new Set(["audio", "voice", "sticker"]);
const UNCAPTIONED_NAMES: Partial<Record<MediaKind, string>> = {
  audio: "an audio file",
  voice: "a voice note",
  sticker: "a sticker",
};

/** One attachment as a client asks for it in `POST /messages`: a held file (`id`) or a URL to fetch. */
export interface AttachmentRequest {
  readonly id?: string | undefined;
  readonly url?: string | undefined;
  readonly kind?: MediaKind | undefined;
  readonly caption?: string | undefined;
  readonly filename?: string | undefined;
}

/**
 * Why a file given by URL could not be made ready at send time. `retryable`
 * follows the fetch (5xx, timeouts); the dispatcher retries those with its
 * usual backoff and fails the message with `code` after the last attempt.
 */
export class MediaNotReady extends PreparationError {
  constructor(
    /** `media.fetch_failed`, `media.unsupported_type`, `media.too_large` or `media.not_found`. */
    code: string,
    message: string,
    retryable: boolean,
  ) {
    super(code, message, retryable);
  }
}

/**
 * The attachments of outbound messages: checked when the message is accepted
 * (a held file must exist and suit its kind; a URL must be one the gateway
 * may fetch), and made ready when it is sent: a file given by URL is fetched
 * once into the MediaStore and recorded on the message, so a retry reuses
 * the stored copy instead of fetching again.
 */
export class OutboundMedia {
  readonly #intake: StoreMedia;

  constructor(
    private readonly media: MediaStore,
    private readonly fetcher: MediaFetcher,
    private readonly messages: MessageStore,
    private readonly clock: Clock,
    private readonly limits: MediaLimits,
  ) {
    this.#intake = new StoreMedia(media, limits);
  }

  /**
   * The attachments a new message carries, in the order given.
   * @throws DomainError MEDIA.TOO_MANY, MEDIA.NOT_FOUND, MEDIA.UNSUPPORTED_TYPE,
   *   MEDIA.TOO_LARGE, MEDIA.URL_INVALID, MEDIA.URL_FORBIDDEN, REQUEST.INVALID.
   */
  async accept(requests: readonly AttachmentRequest[], channel: Channel, text: string): Promise<MessageMedia[]> {
    const most = maxAttachments[channel];
    if (requests.length > most) {
      throw new DomainError(
        "MEDIA.TOO_MANY",
        `a ${channel} message carries at most ${most} attachment${most === 1 ? "" : "s"}; send one message per file`,
        [{ field: "media", message: `at most ${most}` }],
      );
    }
    const captions = requests.filter((r) => r.caption !== undefined);
    if (channel === "sms" && captions.length > 0) {
      throw invalid("media.0.caption", "an SMS/MMS has no captions: give the words as `text`");
    }
    if (channel === "whatsapp" && captions.length > 0 && text !== "") {
      throw invalid("media.0.caption", "give the caption either as `text` or as `media[0].caption`, not both");
    }
    const accepted: MessageMedia[] = [];
    for (const [index, request] of requests.entries()) {
      accepted.push(await this.#acceptOne(request, index));
    }
    const silent = accepted.find((media) => media.kind !== null && UNCAPTIONED_ON_WHATSAPP.has(media.kind));
    if (channel === "whatsapp" && silent && (text !== "" || silent.caption !== null)) {
      throw invalid(
        "text",
        `WhatsApp shows no caption on ${UNCAPTIONED_NAMES[silent.kind!]}: send the text as a message of its own`,
      );
    }
    return accepted;
  }

  async #acceptOne(request: AttachmentRequest, index: number): Promise<MessageMedia> {
    if (request.url !== undefined) {
      try {
        await this.fetcher.check(request.url);
      } catch (error) {
        // A name that cannot be resolved now may resolve at send time: that is the fetch's to decide.
        if (!(error instanceof MediaFetchError && error.retryable)) throw withField(error, `media.${index}.url`);
      }
      return mediaFromUrl(request.url, request);
    }
    const id = request.id ?? "";
    const stored = await this.media.stat(id);
    if (!stored) throw withField(mediaNotFound(id), `media.${index}.id`);
    const kind = request.kind ?? inferMediaKind(stored.mimeType);
    const check = checkMediaType(kind, stored.mimeType);
    if (!check.ok) throw withField(check.error, `media.${index}.kind`);
    if (stored.size > this.limits[kind]) throw withField(mediaTooLarge(this.limits[kind], kind), `media.${index}.id`);
    return {
      id: stored.id,
      kind,
      mimeType: stored.mimeType,
      size: stored.size,
      sha256: stored.sha256,
      filename: request.filename ?? stored.filename ?? null,
      caption: request.caption ?? null,
      sourceUrl: null,
      error: null,
    };
  }

  /**
   * The message with every attachment held: files given by URL are fetched
   * (at most the limit of their kind, their type checked like an upload's)
   * and recorded on the message before it is returned. A file a retry finds
   * already fetched is not fetched again.
   * @throws MediaNotReady
   */
  async prepare(message: Message, signal?: AbortSignal): Promise<Message> {
    if (message.media.every(isHeld)) {
      await this.#checkStillHeld(message);
      return message;
    }
    const ready: MessageMedia[] = [];
    for (const media of message.media) ready.push(isHeld(media) ? media : await this.#fetch(media, signal));
    const updated = await this.messages.updateMedia(message.id, ready, this.clock.now());
    return { ...(updated ?? message), media: ready };
  }

  async #fetch(media: MessageMedia, signal: AbortSignal | undefined): Promise<MessageMedia> {
    const url = media.sourceUrl;
    if (url === null) throw new MediaNotReady("media.not_found", "an attachment has neither a file nor a URL", false);
    try {
      const kind = media.kind ?? undefined;
      const fetched = await this.fetcher.fetch(url, {
        maxBytes: this.#intake.limitFor(kind),
        ...(signal ? { signal } : {}),
      });
      const filename = media.filename ?? fetched.filename;
      const uploaded = await this.#intake.execute({
        source: fetched.stream,
        ...(kind ? { kind } : {}),
        ...(filename ? { filename } : {}),
        ...(fetched.contentType ? { declaredType: fetched.contentType } : {}),
        ...(fetched.contentLength === undefined ? {} : { declaredSize: fetched.contentLength }),
      });
      return {
        ...media,
        id: uploaded.id,
        kind: uploaded.kind,
        mimeType: uploaded.mimeType,
        size: uploaded.size,
        sha256: uploaded.sha256,
        filename: uploaded.filename,
      };
    } catch (error) {
      throw notReady(error, url);
    }
  }

  /** A held file deleted (DELETE /media/{id}) after the message was accepted cannot be sent: fail it at once. */
  async #checkStillHeld(message: Message): Promise<void> {
    for (const media of message.media) {
      if (media.id !== null && !(await this.media.stat(media.id))) {
        throw new MediaNotReady("media.not_found", `media ${media.id} was deleted before the message was sent`, false);
      }
    }
  }
}

function notReady(error: unknown, url: string): MediaNotReady {
  if (error instanceof MediaFetchError) {
    if (error.code === "MEDIA.TOO_LARGE") return new MediaNotReady("media.too_large", error.message, false);
    return new MediaNotReady("media.fetch_failed", `${url}: ${error.message}`, error.retryable);
  }
  // The media store could not write (disk full): the message waits and is tried again.
  if (error instanceof DomainError && error.code === "STORE.UNAVAILABLE")
    return new MediaNotReady("media.fetch_failed", error.message, true);
  if (error instanceof DomainError) {
    const code =
      error.code === "MEDIA.UNSUPPORTED_TYPE"
        ? "media.unsupported_type"
        : error.code === "MEDIA.TOO_LARGE"
          ? "media.too_large"
          : "media.fetch_failed";
    return new MediaNotReady(code, error.message, false);
  }
  // The body was cut or the store failed while writing: another attempt may do better.
  return new MediaNotReady("media.fetch_failed", error instanceof Error ? error.message : String(error), true);
}

function invalid(field: string, message: string): DomainError {
  return new DomainError("REQUEST.INVALID", `${field}: ${message}`, [{ field, message }]);
}

/** The same error, naming the request field it is about. */
function withField(error: unknown, field: string): unknown {
  if (!(error instanceof DomainError) || error.code === "STORE.UNAVAILABLE") return error;
  const issues: FieldIssue[] = [{ field, message: error.message }];
  return new DomainError(error.code, error.message, issues);
}
