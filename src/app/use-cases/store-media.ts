import { DomainError } from "../../domain/errors.ts";
import {
  checkMediaType,
  cleanFilename,
  inferMediaKind,
  largestMediaLimit,
  mediaTooLarge,
  type MediaKind,
  type MediaLimits,
} from "../../domain/media.ts";
import type { MediaSource, MediaStore } from "../../domain/ports/media-store.port.ts";

export interface StoreMediaInput {
  readonly source: MediaSource;
  /** What the client wants to send the file as; absent: inferred from the detected type. */
  readonly kind?: MediaKind;
  readonly filename?: string;
  /** The type the client declared (Content-Type); for logs only, the bytes decide. */
  readonly declaredType?: string;
  /** The size the client announced (Content-Length), when it did: checked before a byte is read. */
  readonly declaredSize?: number;
}

/** An upload as the API answers it. */
export interface UploadedMedia {
  readonly id: string;
  readonly kind: MediaKind;
  readonly mimeType: string;
  readonly size: number;
  readonly sha256: string;
  readonly filename: string | null;
}

/**
 * Takes a file into the MediaStore for later sending: decides the kind (the
 * client's; else the one its declared Content-Type names, if a media type;
 * else the one its detected type implies), refuses a type WhatsApp
 * does not accept for that kind (422, as soon as the first bytes are read)
 * and a file over the kind's limit (413, before reading when the size is
 * announced, else as soon as it passes), and never keeps an empty file.
 * Nothing of a refused file stays in the store.
 */
export class StoreMedia {
  constructor(
    private readonly store: MediaStore,
    private readonly limits: MediaLimits,
  ) {}

  /** The most bytes a file of this kind may have; for a kind still unknown, the largest limit. */
  limitFor(kind: MediaKind | undefined): number {
    return kind ? this.limits[kind] : largestMediaLimit(this.limits);
  }

  async execute(input: StoreMediaInput): Promise<UploadedMedia> {
    // What the client meant to send: its kind, else what its declared type implies (an exe sent as
    // image/jpeg is refused as an image, not taken as a document); else what the bytes turn out to be.
    const intended = input.kind ?? declaredKind(input.declaredType);
    const upfront = this.limitFor(intended);
    if (input.declaredSize !== undefined && input.declaredSize > upfront) {
      await cancel(input.source);
      throw mediaTooLarge(upfront, intended);
    }
    let kind: MediaKind | undefined = intended;
    const filename = cleanFilename(input.filename);
    const stored = await this.store
      .put(input.source, {
        maxBytes: (mimeType) => {
          kind = intended ?? inferMediaKind(mimeType);
          const check = checkMediaType(kind, mimeType);
          if (!check.ok) throw check.error;
          return this.limits[kind];
        },
        ...(filename === undefined ? {} : { filename }),
        ...(input.declaredType === undefined ? {} : { declaredType: input.declaredType }),
      })
      .catch((error: unknown) => {
        // The store knows the number; the client is told which kind's limit it was.
        if (error instanceof DomainError && error.code === "MEDIA.TOO_LARGE" && kind)
          throw mediaTooLarge(this.limits[kind], kind);
        throw error;
      });
    if (stored.size === 0) {
      await this.store.delete(stored.id);
      throw new DomainError("REQUEST.INVALID", "the file is empty", [{ field: "file", message: "empty" }]);
    }
    return {
      id: stored.id,
      kind: kind ?? inferMediaKind(stored.mimeType),
      mimeType: stored.mimeType,
      size: stored.size,
      sha256: stored.sha256,
      filename: stored.filename ?? null,
    };
  }
}

/** The kind a declared type names when it is one WhatsApp takes as media; generic types (octet-stream) name none. */
function declaredKind(declaredType: string | undefined): MediaKind | undefined {
  if (!declaredType) return undefined;
  const kind = inferMediaKind(declaredType);
  return kind === "document" ? undefined : kind;
}

async function cancel(source: MediaSource): Promise<void> {
  try {
    if ("getReader" in source) await source.cancel();
    else await source[Symbol.asyncIterator]().return?.();
  } catch {
    // Already closed or failed: there is nothing left to stop.
  }
}
