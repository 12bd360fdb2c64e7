import { DomainError, ProviderError } from "../../domain/errors.ts";
import { cleanFilename, largestMediaLimit, type MediaLimits, type MessageMedia } from "../../domain/media.ts";
import type { Logger } from "../../domain/ports/logger.port.ts";
import type { MediaStore } from "../../domain/ports/media-store.port.ts";
import type { InboundMedia } from "../../domain/ports/messaging-provider.port.ts";

export interface InboundMediaIntakeOptions {
  /** Attempts per file before the message is recorded with the attachment's `error` (default 3). */
  readonly attempts?: number;
  /** Pause before the second attempt, doubled for each later one (default 500 ms). */
  readonly retryDelayMs?: number;
}

/** What taking a message's files gave: the attachments to record, and which of them still need their file. */
export interface TakenMedia {
  readonly media: readonly MessageMedia[];
  /** Positions in `media` of attachments recorded with an `error`. */
  readonly failed: readonly number[];
}

/**
 * Brings the files of an inbound message into the MediaStore before the
 * message is recorded, so its webhook already links to them (`/media/{id}`).
 * Each file is tried a few times (a provider may do more on a later attempt:
 * WhatsApp asks the phone to upload expired media again); one that still
 * fails is recorded with its `error`, and `repair` can try again later.
 * Inbound files are kept whatever their type (the sender chose it), up to
 * the largest per-kind limit.
 */
export class InboundMediaIntake {
  readonly #attempts: number;
  readonly #retryDelayMs: number;
  readonly #maxBytes: number;

  constructor(
    private readonly store: MediaStore,
    limits: MediaLimits,
    private readonly logger: Logger,
    options: InboundMediaIntakeOptions = {},
  ) {
    this.#attempts = Math.max(1, options.attempts ?? 3);
    this.#retryDelayMs = options.retryDelayMs ?? 500;
    this.#maxBytes = largestMediaLimit(limits);
  }

  async take(files: readonly InboundMedia[], firstAttempt = 1): Promise<TakenMedia> {
    const media: MessageMedia[] = [];
    const failed: number[] = [];
    for (const file of files) {
      const taken = await this.#takeOne(file, firstAttempt);
      if (taken.error) failed.push(media.length);
      media.push(taken);
    }
    return { media, failed };
  }

  /** Deletes files taken for a message that turned out to be recorded already (a redelivery). */
  async release(media: readonly MessageMedia[]): Promise<void> {
    for (const file of media) {
      if (file.id !== null) await this.store.delete(file.id).catch(() => false);
    }
  }

  async #takeOne(file: InboundMedia, firstAttempt: number): Promise<MessageMedia> {
    const base = {
      kind: file.kind,
      filename: cleanFilename(file.filename) ?? null,
      caption: file.caption ?? null,
      sourceUrl: null,
    };
    let lastError: unknown;
    for (let attempt = firstAttempt; attempt < firstAttempt + this.#attempts; attempt++) {
      if (attempt > firstAttempt) await sleep(this.#retryDelayMs * 2 ** (attempt - firstAttempt - 1));
      try {
        const source = await file.open(attempt);
        const stored = await this.store.put(source, {
          maxBytes: this.#maxBytes,
          ...(base.filename === null ? {} : { filename: base.filename }),
          ...(file.mimeType === undefined ? {} : { declaredType: file.mimeType }),
        });
        return {
          ...base,
          id: stored.id,
          mimeType: stored.mimeType,
          size: stored.size,
          sha256: stored.sha256,
          error: null,
        };
      } catch (error) {
        lastError = error;
        if (!retryable(error)) break;
      }
    }
    const message = lastError instanceof Error ? lastError.message : String(lastError);
    this.logger.warn({ kind: file.kind, err: message }, "media: an inbound file could not be downloaded");
    return {
      ...base,
      id: null,
      mimeType: file.mimeType ?? null,
      size: null,
      sha256: null,
      error: { code: errorCode(lastError), message },
    };
  }
}

function retryable(error: unknown): boolean {
  if (error instanceof ProviderError) return error.retryable;
  // Too large: the same bytes will be too large again.
  if (error instanceof DomainError) return error.code !== "MEDIA.TOO_LARGE";
  return true;
}

function errorCode(error: unknown): string {
  if (error instanceof DomainError && error.code === "MEDIA.TOO_LARGE") return "media.too_large";
  return "media.download_failed";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref?.();
  });
}
