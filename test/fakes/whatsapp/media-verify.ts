import type { proto } from "@whiskeysockets/baileys";
import { verifyBlob } from "./media-crypto.ts";
import type { MediaKeyFamily } from "./media-crypto.ts";
import type { MediaStore, StoredBlob } from "./media-store.ts";

export const MEDIA_KINDS = ["image", "video", "audio", "voice", "document", "sticker"] as const;
/** Our names for media, as the gateway's API has them: a voice note is audio with `ptt`. */
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** What the simulator found in a verified media message (`media` of a `/control/messages` entry). */
export interface ReceivedMedia {
  kind: MediaKind;
  mimeType: string;
  /** Decrypted length in bytes. */
  size: number;
  /** Hex SHA-256 of the decrypted bytes. */
  sha256: string;
  filename?: string;
  caption?: string;
}

/** The fields every WhatsApp media message shares (imageMessage, documentMessage...). */
interface MediaFields {
  url?: string | null;
  directPath?: string | null;
  mediaKey?: Uint8Array | null;
  fileSha256?: Uint8Array | null;
  fileEncSha256?: Uint8Array | null;
  fileLength?: unknown;
  mimetype?: string | null;
  caption?: string | null;
  fileName?: string | null;
}

/** A media part of a message: its kind, the key family it is encrypted with, its fields. */
export interface FoundMedia {
  kind: MediaKind;
  family: MediaKeyFamily;
  fields: MediaFields;
}

/** Wrappers a media message can come in; a document with a caption comes in documentWithCaptionMessage. */
function unwrap(message: proto.IMessage): proto.IMessage {
  let current = message;
  for (let depth = 0; depth < 4; depth++) {
    const inner =
      current.deviceSentMessage?.message ??
      current.ephemeralMessage?.message ??
      current.viewOnceMessage?.message ??
      current.viewOnceMessageV2?.message ??
      current.documentWithCaptionMessage?.message;
    if (!inner) break;
    current = inner;
  }
  return current;
}

export function findMedia(message: proto.IMessage): FoundMedia | undefined {
  const m = unwrap(message);
  if (m.imageMessage) return { kind: "image", family: "Image", fields: m.imageMessage };
  const video = m.videoMessage ?? m.ptvMessage;
  if (video) return { kind: "video", family: "Video", fields: video };
  if (m.audioMessage) return { kind: m.audioMessage.ptt ? "voice" : "audio", family: "Audio", fields: m.audioMessage };
  if (m.documentMessage) return { kind: "document", family: "Document", fields: m.documentMessage };
  if (m.stickerMessage) return { kind: "sticker", family: "Image", fields: m.stickerMessage };
  return undefined;
}

/** protobufjs gives uint64 fields as a number or a Long. */
function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "object" && value !== null && "toNumber" in value) {
    return (value as { toNumber(): number }).toNumber();
  }
  return undefined;
}

export type VerifiedMedia = { media: ReceivedMedia; blob: StoredBlob } | { mediaError: string };

/**
 * Checks a media message as its recipient's phone would: the blob it names
 * must be on the simulator's media server, hash to `fileEncSha256`, carry a
 * valid MAC, decrypt under `mediaKey`, and give `fileLength` bytes hashing
 * to `fileSha256`. Never throws: a failure is the reason why.
 */
export async function verifyMedia(found: FoundMedia, store: MediaStore): Promise<VerifiedMedia> {
  const { fields } = found;
  const where = fields.directPath || fields.url;
  if (!where) return { mediaError: "no directPath or url" };
  let blob: StoredBlob | undefined;
  try {
    blob = store.find(where);
  } catch {
    return { mediaError: `unreadable media location ${where}` };
  }
  if (!blob) return { mediaError: `media not found on the simulator's media server: ${where}` };
  const fileLength = toNumber(fields.fileLength);
  const { mediaKey, fileSha256, fileEncSha256 } = fields;
  for (const [name, value] of Object.entries({ mediaKey, fileSha256, fileEncSha256, fileLength })) {
    if (value === undefined || value === null) return { mediaError: `no ${name}` };
  }
  const result = await verifyBlob(blob.file, found.family, {
    mediaKey: mediaKey!,
    fileSha256: fileSha256!,
    fileEncSha256: fileEncSha256!,
    fileLength: fileLength!,
  });
  if (!result.ok) return { mediaError: result.reason };
  blob.plainSha256 = result.sha256;
  return {
    blob,
    media: {
      kind: found.kind,
      mimeType: fields.mimetype ?? "",
      size: result.size,
      sha256: result.sha256,
      ...(found.kind === "document" && fields.fileName ? { filename: fields.fileName } : {}),
      ...(fields.caption ? { caption: fields.caption } : {}),
    },
  };
}
