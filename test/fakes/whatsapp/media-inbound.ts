import type { proto } from "@whiskeysockets/baileys";
import { ControlError } from "./errors.ts";
import type { EncryptedMedia, MediaKeyFamily } from "./media-crypto.ts";
import { MEDIA_KINDS } from "./media-verify.ts";
import type { MediaKind } from "./media-verify.ts";

/** Media a simulated contact sends (`media` of `POST /control/inbound`). */
export interface InboundMedia {
  kind: MediaKind;
  /** Default per kind: image/jpeg, video/mp4, audio/mpeg, application/octet-stream, image/webp; voice is always ogg/opus. */
  mimeType?: string;
  /** The file, standard base64. */
  base64: string;
  /** Documents: the file name shown (default "file"). */
  filename?: string;
  caption?: string;
  /** Audio, voice and video: the duration announced (default 1). */
  seconds?: number;
}

export const VOICE_MIME = "audio/ogg; codecs=opus";

const DEFAULT_MIME: Record<MediaKind, string> = {
  image: "image/jpeg",
  video: "video/mp4",
  audio: "audio/mpeg",
  voice: VOICE_MIME,
  document: "application/octet-stream",
  sticker: "image/webp",
};

export const FAMILY: Record<MediaKind, MediaKeyFamily> = {
  image: "Image",
  video: "Video",
  audio: "Audio",
  voice: "Audio",
  document: "Document",
  sticker: "Image",
};

const CAPTIONED: ReadonlySet<MediaKind> = new Set(["image", "video", "document"]);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/**
 * Validates `media` from outside and settles its caption (`text` beside
 * media is the caption when there is no `caption`); throws ControlError 400
 * naming what is wrong.
 */
export function parseInboundMedia(value: unknown, text: string | undefined): { media: InboundMedia; bytes: Buffer } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ControlError(400, "media must be an object {kind, mimeType?, base64, filename?, caption?}");
  }
  const input = value as Record<string, unknown>;
  const kind = input.kind;
  if (typeof kind !== "string" || !(MEDIA_KINDS as readonly string[]).includes(kind)) {
    throw new ControlError(400, `media.kind must be one of ${MEDIA_KINDS.join(", ")}`);
  }
  const mediaKind = kind as MediaKind;
  const base64 = typeof input.base64 === "string" ? input.base64.replace(/\s+/g, "") : undefined;
  if (base64 === undefined) throw new ControlError(400, "media.base64 must be a string");
  if (base64 === "") throw new ControlError(400, "media.base64 is empty");
  if (!BASE64.test(base64)) throw new ControlError(400, "media.base64 is not valid base64");
  for (const key of ["mimeType", "filename", "caption"] as const) {
    if (input[key] !== undefined && typeof input[key] !== "string") {
      throw new ControlError(400, `media.${key} must be a string`);
    }
  }
  const seconds = input.seconds;
  if (seconds !== undefined && (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 0)) {
    throw new ControlError(400, "media.seconds must be a whole number of seconds");
  }
  const mimeType = (input.mimeType as string | undefined) ?? DEFAULT_MIME[mediaKind];
  if (mediaKind === "voice" && !mimeType.startsWith("audio/ogg")) {
    throw new ControlError(400, `voice notes are ${VOICE_MIME}`);
  }
  const caption = (input.caption as string | undefined) ?? text;
  if (caption && !CAPTIONED.has(mediaKind)) throw new ControlError(400, `${mediaKind} messages have no caption`);
  const media: InboundMedia = {
    kind: mediaKind,
    mimeType: mediaKind === "voice" ? VOICE_MIME : mimeType,
    base64,
    ...(typeof input.filename === "string" ? { filename: input.filename } : {}),
    ...(caption ? { caption } : {}),
    ...(typeof seconds === "number" ? { seconds } : {}),
  };
  return { media, bytes: Buffer.from(base64, "base64") };
}

/** Where the encrypted file was put, as a message names it. */
export interface MediaLocation {
  url: string;
  directPath: string;
}

/**
 * The message a WhatsApp phone sends for this media: the kind's message
 * with the keys and hashes of `encrypted`; a document with a caption comes
 * wrapped in documentWithCaptionMessage, as phones send it.
 */
export function mediaMessage(
  media: InboundMedia,
  size: number,
  encrypted: EncryptedMedia,
  at: MediaLocation,
): proto.IMessage {
  const common = {
    url: at.url,
    directPath: at.directPath,
    mediaKey: encrypted.mediaKey,
    fileSha256: encrypted.fileSha256,
    fileEncSha256: encrypted.fileEncSha256,
    fileLength: size,
    mimetype: media.mimeType ?? DEFAULT_MIME[media.kind],
    mediaKeyTimestamp: Math.floor(Date.now() / 1000),
  };
  const caption = media.caption ? { caption: media.caption } : {};
  const seconds = media.seconds ?? 1;
  switch (media.kind) {
    case "image":
      return { imageMessage: { ...common, ...caption } };
    case "video":
      return { videoMessage: { ...common, ...caption, seconds } };
    case "audio":
      return { audioMessage: { ...common, seconds, ptt: false } };
    case "voice":
      return { audioMessage: { ...common, seconds, ptt: true } };
    case "sticker":
      return { stickerMessage: { ...common } };
    case "document": {
      const fileName = media.filename ?? "file";
      const documentMessage = { ...common, ...caption, fileName, title: fileName };
      return media.caption ? { documentWithCaptionMessage: { message: { documentMessage } } } : { documentMessage };
    }
  }
}
