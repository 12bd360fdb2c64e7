import { DomainError } from "./errors.ts";

/**
 * What an attachment is to WhatsApp: a photo, a video, an audio file, a
 * push-to-talk voice note, a document (any file, shown with its name) or a
 * sticker. Twilio has no kinds; it takes the same names.
 */
export const MediaKinds = ["image", "video", "audio", "voice", "document", "sticker"] as const;
export type MediaKind = (typeof MediaKinds)[number];

/** One file attached to a message, as the gateway holds it. */
export interface MediaAttachment {
  readonly id: string;
  readonly kind: MediaKind;
  /** The type read from the bytes, never the one a client or a name claimed. */
  readonly mimeType: string;
  readonly size: number;
  /** Hex SHA-256 of the bytes. */
  readonly sha256: string;
  readonly filename?: string;
  readonly caption?: string;
}

/** Why an attachment's file is not held: a download or fetch that failed. */
export interface MediaError {
  readonly code: string;
  readonly message: string;
}

/**
 * An attachment as a message carries it. Held by the gateway once `id` is
 * set (the file is in the MediaStore, and the other facts are read from its
 * bytes). Until then it is a file given by URL, fetched when the message is
 * sent (`sourceUrl`), or an inbound file whose download failed (`error`).
 */
export interface MessageMedia {
  /** The MediaStore id; null while the file is not held. */
  readonly id: string | null;
  /** null only for a file given by URL with no kind: decided from its bytes once fetched. */
  readonly kind: MediaKind | null;
  readonly mimeType: string | null;
  readonly size: number | null;
  /** Hex SHA-256 of the bytes. */
  readonly sha256: string | null;
  readonly filename: string | null;
  readonly caption: string | null;
  /** The URL the client gave, for a file the gateway fetches at send time; null otherwise. */
  readonly sourceUrl: string | null;
  readonly error: MediaError | null;
}

/** A held attachment: everything known. */
export type HeldMedia = MessageMedia & {
  readonly id: string;
  readonly kind: MediaKind;
  readonly mimeType: string;
  readonly size: number;
  readonly sha256: string;
};

export function isHeld(media: MessageMedia): media is HeldMedia {
  return (
    media.id !== null && media.kind !== null && media.mimeType !== null && media.size !== null && media.sha256 !== null
  );
}

/** An attachment still to fetch from the URL a client gave. */
export function mediaFromUrl(
  url: string,
  details: { kind?: MediaKind | undefined; caption?: string | undefined; filename?: string | undefined } = {},
): MessageMedia {
  return {
    id: null,
    kind: details.kind ?? null,
    mimeType: null,
    size: null,
    sha256: null,
    filename: cleanFilename(details.filename) ?? null,
    caption: details.caption ?? null,
    sourceUrl: url,
    error: null,
  };
}

/** Most attachments one message may carry, per channel: WhatsApp sends one file per message, Twilio (MMS) up to 10. */
export const maxAttachments = { whatsapp: 1, sms: 10 } as const;

/** Largest file per kind, in bytes. */
export type MediaLimits = Readonly<Record<MediaKind, number>>;

const MiB = 1024 * 1024;

/** WhatsApp's own limits per kind; MEDIA_MAX_BYTES_<KIND> overrides each. */
export const defaultMediaLimits: MediaLimits = {
  image: 5 * MiB,
  video: 16 * MiB,
  audio: 16 * MiB,
  voice: 16 * MiB,
  document: 100 * MiB,
  sticker: 500 * 1024,
};

/** The opus flavour of ogg, as type detection names it: what WhatsApp voice notes are. */
export const OGG_OPUS = "audio/ogg; codecs=opus";

/**
 * The types WhatsApp accepts per kind (its media-type table), spelled as type
 * detection reports them (`audio/x-m4a` is an m4a file). `any`: every type,
 * still detected from the bytes so the stored type is true.
 */
export const acceptedMediaTypes: Readonly<Record<MediaKind, readonly string[] | "any">> = {
  image: ["image/jpeg", "image/png"],
  video: ["video/mp4", "video/3gpp"],
  audio: ["audio/aac", "audio/mp4", "audio/x-m4a", "audio/mpeg", "audio/amr", "audio/ogg", OGG_OPUS],
  voice: [OGG_OPUS],
  document: "any",
  sticker: ["image/webp"],
};

/** Lower case, one space after each `;`: `Audio/Ogg;codecs=opus` and `audio/ogg; codecs=opus` compare equal. */
export function normalizeMimeType(mimeType: string): string {
  return mimeType
    .split(";")
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part.length > 0)
    .join("; ");
}

/**
 * The kind a file is sent as when the client names none, from its detected
 * type: jpeg/png an image, webp a sticker (WhatsApp shows webp only as one),
 * ogg/opus a voice note (what WhatsApp records), the other accepted audio
 * and video types their kind, anything else a document.
 */
export function inferMediaKind(detectedMimeType: string): MediaKind {
  const mime = normalizeMimeType(detectedMimeType);
  for (const kind of ["image", "sticker", "voice", "video", "audio"] as const) {
    const accepted = acceptedMediaTypes[kind];
    if (accepted !== "any" && accepted.includes(mime)) return kind;
  }
  return "document";
}

export type MediaTypeCheck = { readonly ok: true } | { readonly ok: false; readonly error: DomainError };

/** Whether WhatsApp accepts a file of this detected type as this kind; if not, the 422 naming the accepted types. */
export function checkMediaType(kind: MediaKind, detectedMimeType: string): MediaTypeCheck {
  const accepted = acceptedMediaTypes[kind];
  if (accepted === "any" || accepted.includes(normalizeMimeType(detectedMimeType))) return { ok: true };
  return {
    ok: false,
    error: new DomainError(
      "MEDIA.UNSUPPORTED_TYPE",
      `the file is ${detectedMimeType} (read from its bytes), which is not accepted as ${kind}; accepted: ${accepted.join(", ")}`,
      [{ field: "file", message: `accepted ${kind} types: ${accepted.join(", ")}` }],
    ),
  };
}

/** The 413 of a file over its limit; `kind` when known, so the client learns which limit. */
export function mediaTooLarge(limitBytes: number, kind?: MediaKind): DomainError {
  const which = kind ? `the limit for ${kind} files` : "the limit";
  return new DomainError("MEDIA.TOO_LARGE", `the file exceeds ${which} of ${limitBytes} bytes`);
}

export function mediaNotFound(id: string): DomainError {
  return new DomainError("MEDIA.NOT_FOUND", `media ${id} not found`);
}

/** Largest limit over all kinds: the most an upload of a kind not yet known may be. */
export function largestMediaLimit(limits: MediaLimits): number {
  return Math.max(...MediaKinds.map((kind) => limits[kind]));
}

const MAX_FILENAME_CHARS = 255;

/**
 * A client's filename as the gateway keeps and shows it: the last path
 * segment only (no `../` or `C:\` reaches anything), without control
 * characters, at most 255 characters; undefined when nothing is left.
 */
export function cleanFilename(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const last = name.split(/[/\\]/).at(-1) ?? "";
  const cleaned = [...last]
    .filter((char) => {
      const code = char.charCodeAt(0);
      return code >= 0x20 && code !== 0x7f && !(code >= 0x80 && code < 0xa0);
    })
    .join("")
    .trim()
    .slice(0, MAX_FILENAME_CHARS);
  return cleaned === "" || cleaned === "." || cleaned === ".." ? undefined : cleaned;
}
