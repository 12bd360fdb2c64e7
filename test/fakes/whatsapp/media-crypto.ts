/**
 * WhatsApp's media encryption, written from the protocol and not borrowed
 * from Baileys, so that checking what Baileys uploads is an independent
 * check: a 32-byte media key expands (HKDF-SHA256, empty salt, an info
 * string per media family) into an IV, an AES-256-CBC key and an HMAC key;
 * the blob is the ciphertext followed by the first 10 bytes of
 * HMAC-SHA256(macKey, iv || ciphertext).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import { createReadStream } from "node:fs";

/** The key families: stickers use the image keys, voice notes the audio keys. */
export type MediaKeyFamily = "Image" | "Video" | "Audio" | "Document";

export const MAC_LENGTH = 10;

export interface MediaKeys {
  iv: Buffer;
  cipherKey: Buffer;
  macKey: Buffer;
  refKey: Buffer;
}

const hkdf = (key: Uint8Array, info: string, length: number): Buffer =>
  Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), info, length));

/** Expands a media key into its 112 bytes: iv 16, cipherKey 32, macKey 32, refKey 32. */
export function expandMediaKey(mediaKey: Uint8Array, family: MediaKeyFamily): MediaKeys {
  const bytes = hkdf(mediaKey, `WhatsApp ${family} Keys`, 112);
  return {
    iv: bytes.subarray(0, 16),
    cipherKey: bytes.subarray(16, 48),
    macKey: bytes.subarray(48, 80),
    refKey: bytes.subarray(80, 112),
  };
}

/** A file encrypted as a WhatsApp phone encrypts it before uploading. */
export interface EncryptedMedia {
  mediaKey: Buffer;
  /** ciphertext || mac: the bytes the media server stores. */
  blob: Buffer;
  fileSha256: Buffer;
  fileEncSha256: Buffer;
}

export function encryptMedia(plain: Uint8Array, family: MediaKeyFamily): EncryptedMedia {
  const mediaKey = randomBytes(32);
  const { iv, cipherKey, macKey } = expandMediaKey(mediaKey, family);
  const cipher = createCipheriv("aes-256-cbc", cipherKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  const mac = createHmac("sha256", macKey).update(iv).update(ciphertext).digest().subarray(0, MAC_LENGTH);
  const blob = Buffer.concat([ciphertext, mac]);
  return {
    mediaKey,
    blob,
    fileSha256: createHash("sha256").update(plain).digest(),
    fileEncSha256: createHash("sha256").update(blob).digest(),
  };
}

/** What a message claims about its media, checked against the stored blob. */
export interface MediaClaims {
  mediaKey: Uint8Array;
  fileSha256: Uint8Array;
  fileEncSha256: Uint8Array;
  fileLength: number;
}

export type VerifyResult = { ok: true; sha256: string; size: number } | { ok: false; reason: string };

/**
 * Reads a stored blob once, in chunks (documents can be tens of MB), and
 * checks in order what a receiving phone would: the blob's hash, the MAC,
 * the decryption, then the plaintext's hash and length.
 */
export async function verifyBlob(file: string, family: MediaKeyFamily, claims: MediaClaims): Promise<VerifyResult> {
  const { iv, cipherKey, macKey } = expandMediaKey(claims.mediaKey, family);
  const encHash = createHash("sha256");
  const plainHash = createHash("sha256");
  const hmac = createHmac("sha256", macKey).update(iv);
  const decipher = createDecipheriv("aes-256-cbc", cipherKey, iv);
  // The last MAC_LENGTH bytes seen so far may be the MAC: held back until more arrive.
  let tail = Buffer.alloc(0);
  let total = 0;
  let size = 0;
  const consume = (ciphertext: Buffer): void => {
    hmac.update(ciphertext);
    const plain = decipher.update(ciphertext);
    size += plain.length;
    plainHash.update(plain);
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const bytes = chunk as Buffer;
    encHash.update(bytes);
    total += bytes.length;
    const data = tail.length > 0 ? Buffer.concat([tail, bytes]) : bytes;
    const cut = Math.max(0, data.length - MAC_LENGTH);
    consume(data.subarray(0, cut));
    tail = Buffer.from(data.subarray(cut));
  }
  if (!sameBytes(encHash.digest(), claims.fileEncSha256)) return { ok: false, reason: "fileEncSha256 mismatch" };
  if (total < MAC_LENGTH + 16) return { ok: false, reason: "blob too short" };
  if (!sameBytes(hmac.digest().subarray(0, MAC_LENGTH), tail)) return { ok: false, reason: "mac mismatch" };
  try {
    const last = decipher.final();
    size += last.length;
    plainHash.update(last);
  } catch (err) {
    return { ok: false, reason: `decryption failed: ${(err as Error).message}` };
  }
  const sha256 = plainHash.digest();
  if (!sameBytes(sha256, claims.fileSha256)) return { ok: false, reason: "fileSha256 mismatch" };
  if (size !== claims.fileLength) return { ok: false, reason: `fileLength mismatch: ${claims.fileLength} != ${size}` };
  return { ok: true, sha256: sha256.toString("hex"), size };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const retryKey = (mediaKey: Uint8Array): Buffer => hkdf(mediaKey, "WhatsApp Media Retry Notification", 32);

/** AES-256-GCM under the media's retry key, the message id as additional data; the tag follows the ciphertext. */
export function sealRetryPayload(
  mediaKey: Uint8Array,
  messageId: string,
  plain: Uint8Array,
): { ciphertext: Buffer; iv: Buffer } {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", retryKey(mediaKey), iv);
  cipher.setAAD(Buffer.from(messageId));
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return { ciphertext, iv };
}

/** Opens what `sealRetryPayload` (or a client's retry request) sealed; throws when it does not authenticate. */
export function openRetryPayload(
  mediaKey: Uint8Array,
  messageId: string,
  ciphertext: Uint8Array,
  iv: Uint8Array,
): Buffer {
  const tagAt = ciphertext.length - 16;
  if (tagAt < 0) throw new Error("retry payload too short");
  const decipher = createDecipheriv("aes-256-gcm", retryKey(mediaKey), iv);
  decipher.setAAD(Buffer.from(messageId));
  decipher.setAuthTag(ciphertext.subarray(tagAt));
  return Buffer.concat([decipher.update(ciphertext.subarray(0, tagAt)), decipher.final()]);
}
