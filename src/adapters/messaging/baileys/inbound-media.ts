import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { ProviderError } from "../../../domain/errors.ts";
import type { MediaKind } from "../../../domain/media.ts";
import { BAILEYS_PROVIDER, type InboundMedia } from "../../../domain/ports/messaging-provider.port.ts";
import { withTimeout } from "../../../domain/timeout.ts";
import { downloadContentFromMessage, normalizeMessageContent } from "@whiskeysockets/baileys";
import type { MediaType, WAMessage, proto } from "@whiskeysockets/baileys";
import { boomStatusCode } from "./disconnect-mapping.ts";
import type { FetchDispatcher } from "./media-trust.ts";

/** The fields every WhatsApp media message has (imageMessage, documentMessage...). */
interface MediaFields {
  readonly mediaKey?: Uint8Array | null;
  readonly directPath?: string | null;
  readonly url?: string | null;
  readonly fileSha256?: Uint8Array | null;
  readonly mimetype?: string | null;
  readonly caption?: string | null;
  readonly fileName?: string | null;
}

/** The file of a WhatsApp message: our kind, the key family it is encrypted with, its fields. */
export interface FoundMedia {
  readonly kind: MediaKind;
  readonly keys: MediaType;
  readonly fields: MediaFields;
}

/**
 * The file a message carries, inside any wrapper (ephemeral, view once, a
 * document with a caption): a photo, a video (a round video note too), an
 * audio file or a voice note (audio with `ptt`), a document, a sticker.
 */
export function findMedia(message: proto.IMessage | null | undefined): FoundMedia | undefined {
  const content = normalizeMessageContent(message);
  if (!content) return undefined;
  if (content.imageMessage) return { kind: "image", keys: "image", fields: content.imageMessage };
  const video = content.videoMessage ?? content.ptvMessage;
  if (video) return { kind: "video", keys: "video", fields: video };
  if (content.audioMessage) {
    return { kind: content.audioMessage.ptt ? "voice" : "audio", keys: "audio", fields: content.audioMessage };
  }
  if (content.documentMessage) return { kind: "document", keys: "document", fields: content.documentMessage };
  if (content.stickerMessage) return { kind: "sticker", keys: "sticker", fields: content.stickerMessage };
  return undefined;
}

/** What downloading a message's file needs. */
export interface MediaDownloads {
  /** For `fetch`: trust in the media hosts' CA (tests); undefined, the default trust. */
  readonly dispatcher?: FetchDispatcher;
  /**
   * Asks the sender's phone to upload the message's file again (WhatsApp
   * keeps files on its servers for a while only); resolves with the message
   * pointing at the new copy.
   */
  reupload(message: WAMessage): Promise<WAMessage>;
  /** A download that gives no bytes for this long fails: a stalled or cut connection never ends otherwise. */
  readonly idleTimeoutMs: number;
}

/** Download answers that mean the file expired on WhatsApp's servers: the phone can upload it again. */
const EXPIRED = new Set([404, 410]);
/** 4xx answers worth another try. */
const RETRYABLE_4XX = new Set([408, 429]);

/**
 * A message's file as the gateway takes it in. `open` downloads and
 * decrypts it as a stream, checking the bytes against the SHA-256 the
 * message names. A download refused as expired (404, 410) makes the next
 * attempt ask the phone for a new upload first.
 */
export function toInboundMedia(message: WAMessage, found: FoundMedia, downloads: MediaDownloads): InboundMedia {
  let current = message;
  let expired = false;
  const { fields } = found;
  return {
    kind: found.kind,
    ...(fields.mimetype ? { mimeType: fields.mimetype } : {}),
    ...(found.kind === "document" && fields.fileName ? { filename: fields.fileName } : {}),
    ...(fields.caption ? { caption: fields.caption } : {}),
    async open(attempt: number) {
      if (attempt >= 2 && expired) {
        current = await reupload(current, downloads);
        expired = false;
      }
      const media = findMedia(current.message)?.fields ?? fields;
      if (!media.mediaKey || !(media.directPath || media.url)) {
        throw new ProviderError(BAILEYS_PROVIDER, "the message names no file to download", false, "media-unavailable");
      }
      try {
        const stream = await downloadContentFromMessage(media, found.keys, {
          options: downloads.dispatcher ? { dispatcher: downloads.dispatcher } : {},
        });
        return checked(stream, media.fileSha256 ?? undefined, downloads.idleTimeoutMs);
      } catch (error) {
        const code = boomStatusCode(error);
        if (code !== undefined && EXPIRED.has(code)) expired = true;
        throw downloadError(error);
      }
    },
  };
}

async function reupload(message: WAMessage, downloads: MediaDownloads): Promise<WAMessage> {
  try {
    return await downloads.reupload(message);
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    const code = boomStatusCode(error);
    const text = error instanceof Error ? error.message : String(error);
    // 404: the phone no longer has the file; nothing will bring it back.
    throw new ProviderError(
      BAILEYS_PROVIDER,
      `asking the phone to upload the file again failed: ${text}`,
      code !== 404,
      code === undefined ? "reupload-failed" : String(code),
    );
  }
}

/**
 * The decrypted bytes as they arrive, failing when none come for
 * `idleTimeoutMs` (Baileys pipes the download into the decryption without
 * passing a broken connection on, which would otherwise never end) and, at
 * the end, when their SHA-256 is not the one the message names (a download
 * cut on a block boundary decrypts without error).
 */
async function* checked(
  stream: Readable,
  expectedSha256: Uint8Array | undefined,
  idleTimeoutMs: number,
): AsyncGenerator<Uint8Array> {
  const hash = createHash("sha256");
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const stalled = () =>
    new ProviderError(BAILEYS_PROVIDER, `the download gave no bytes for ${idleTimeoutMs} ms`, true, "download-stalled");
  try {
    for (;;) {
      const next = await withTimeout(chunks.next(), idleTimeoutMs, stalled).catch((error: unknown) => {
        throw downloadError(error);
      });
      if (next.done) break;
      hash.update(next.value);
      yield next.value;
    }
  } finally {
    stream.destroy();
  }
  if (expectedSha256 && !hash.digest().equals(Buffer.from(expectedSha256))) {
    throw new ProviderError(BAILEYS_PROVIDER, "the downloaded file does not match its SHA-256", true, "media-corrupt");
  }
}

/** A download failure as a ProviderError: retryable unless the media host refused it for good. */
function downloadError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const text = error instanceof Error ? error.message : String(error);
  const code = boomStatusCode(error);
  if (code === undefined) return new ProviderError(BAILEYS_PROVIDER, `media download failed: ${text}`, true);
  const retryable = code >= 500 || EXPIRED.has(code) || RETRYABLE_4XX.has(code);
  return new ProviderError(BAILEYS_PROVIDER, `media download failed: ${text}`, retryable, String(code));
}
