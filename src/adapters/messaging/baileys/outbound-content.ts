import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { ProviderError } from "../../../domain/errors.ts";
import { isHeld, normalizeMimeType, OGG_OPUS, type HeldMedia, type MediaKind } from "../../../domain/media.ts";
import type { Message } from "../../../domain/message.ts";
import type { MediaStore } from "../../../domain/ports/media-store.port.ts";
import { BAILEYS_PROVIDER } from "../../../domain/ports/messaging-provider.port.ts";
import type { AnyMessageContent, WAMessage } from "@whiskeysockets/baileys";

/** What Baileys is given to send: the content, and how to let go of the file it reads. */
export interface OutboundContent {
  readonly content: AnyMessageContent;
  /** The message a reply quotes. */
  readonly quoted?: WAMessage;
  /** Closes the file stream (whether or not Baileys read it to the end). */
  release(): void;
  /** A caption that the kind cannot carry (WhatsApp shows none on audio, voice notes and stickers). */
  readonly droppedCaption?: string;
}

/** The kinds WhatsApp shows a caption under. */
const CAPTIONED: ReadonlySet<MediaKind> = new Set(["image", "video", "document"]);

/**
 * The message's attachment, if it has one, ready to send: held by the
 * gateway (in the MediaStore). WhatsApp carries one file per message (the
 * API refuses more before anything is queued). Throws a terminal
 * ProviderError for an attachment that is not held: sending it again
 * cannot help; the dispatcher holds files before it calls a provider.
 */
export function heldAttachment(message: Message): HeldMedia | undefined {
  if (message.media.length === 0) return undefined;
  if (message.media.length > 1) {
    throw new ProviderError(
      BAILEYS_PROVIDER,
      `a WhatsApp message carries one file; this one has ${message.media.length}`,
      false,
      "media-too-many",
    );
  }
  const media = message.media[0]!;
  if (!isHeld(media)) {
    throw new ProviderError(
      BAILEYS_PROVIDER,
      "the attachment is not held by the gateway yet (no media id): nothing to send",
      false,
      "media-not-ready",
    );
  }
  return media;
}

/** Text content: a link preview would make Baileys fetch any URL in the text, so there is none. */
export function textContent(message: Message): OutboundContent {
  return { content: { text: message.text, linkPreview: null }, release: () => undefined };
}

/**
 * The Baileys content for a message with one held attachment, streaming the
 * file from the store: Baileys encrypts it to a temporary file as it reads,
 * so the file is never held in memory whole. The caption is the
 * attachment's own or else the message's text. The type is the one read
 * from the bytes; a voice note is WhatsApp's push-to-talk audio, always
 * ogg/opus. Throws a terminal ProviderError when the store no longer has the
 * file.
 */
export async function mediaContent(message: Message, media: HeldMedia, store: MediaStore): Promise<OutboundContent> {
  const file = await store.get(media.id);
  if (!file) {
    throw new ProviderError(
      BAILEYS_PROVIDER,
      `media ${media.id} is no longer in the media store`,
      false,
      "media-not-found",
    );
  }
  const stream = Readable.fromWeb(file.stream as WebReadableStream<Uint8Array>);
  const upload = { stream };
  const caption = (media.caption ?? message.text) || undefined;
  const withCaption = caption !== undefined && CAPTIONED.has(media.kind) ? { caption } : {};
  const mimetype = media.mimeType;
  const content = ((): AnyMessageContent => {
    switch (media.kind) {
      case "image":
        return { image: upload, mimetype, ...withCaption };
      case "video":
        return { video: upload, mimetype, ...withCaption };
      case "audio":
        return { audio: upload, mimetype };
      case "voice":
        return { audio: upload, ptt: true, mimetype: OGG_OPUS };
      case "document":
        return {
          document: upload,
          mimetype,
          fileName: media.filename ?? defaultFilename(media.kind, mimetype),
          ...withCaption,
        };
      case "sticker":
        return { sticker: upload, mimetype };
    }
  })();
  return {
    content,
    release: () => stream.destroy(),
    ...(caption !== undefined && !CAPTIONED.has(media.kind) ? { droppedCaption: caption } : {}),
  };
}

/** File name extensions of the types whose subtype is not one already. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  "image/jpeg": "jpg",
  "text/plain": "txt",
  "audio/mpeg": "mp3",
  "audio/mp4": "m4a",
  "audio/x-m4a": "m4a",
  "video/quicktime": "mov",
  "video/3gpp": "3gp",
  "application/msword": "doc",
  "application/vnd.ms-excel": "xls",
  "application/vnd.ms-powerpoint": "ppt",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
  "application/x-7z-compressed": "7z",
  "application/gzip": "gz",
  "application/octet-stream": "bin",
};

/**
 * The name a document is shown with when none was given: its kind and an
 * extension for its type (`document.pdf`); `bin` for a type without an
 * obvious one.
 */
export function defaultFilename(kind: MediaKind, mimeType: string): string {
  const type = normalizeMimeType(mimeType).split(";")[0] ?? "";
  const subtype = (type.split("/")[1] ?? "").replace(/^x-/, "");
  const extension = EXTENSIONS[type] ?? (/^[a-z0-9]{1,8}$/.test(subtype) ? subtype : "bin");
  return `${kind}.${extension}`;
}
