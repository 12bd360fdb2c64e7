import { createHash } from "node:crypto";
import { fileTypeFromBuffer } from "file-type";
import { mediaTooLarge } from "../../../domain/media.ts";
import type { MediaSource, PutMediaOptions } from "../../../domain/ports/media-store.port.ts";

/** How many first bytes type detection reads (file-type's own reach). */
export const SNIFF_BYTES = 4100;

/** What the bytes turned out to be, once all of them passed. */
export interface Intake {
  readonly size: number;
  readonly sha256: string;
  readonly mimeType: string;
}

/**
 * Reads `source` to its end, handing each chunk to `write` (one at a time,
 * so a slow disk slows the sender down instead of filling memory), while it
 * counts, hashes, and reads the type from the first {@link SNIFF_BYTES}.
 * Throws `MEDIA.TOO_LARGE` as soon as the count passes the limit, or what the
 * `maxBytes` function throws once the type is known; the source is cancelled
 * then. Every store runs its bytes through this, so the limit, the hash and
 * the type mean the same in each.
 */
export async function takeIn(
  source: MediaSource,
  maxBytes: PutMediaOptions["maxBytes"],
  write: (chunk: Uint8Array) => Promise<void>,
): Promise<Intake> {
  const hash = createHash("sha256");
  let size = 0;
  let limit = typeof maxBytes === "number" ? maxBytes : Number.POSITIVE_INFINITY;
  let head: Uint8Array[] | undefined = [];
  let mimeType: string | undefined;
  const settleType = async () => {
    mimeType = await detectMimeType(Buffer.concat(head ?? []).subarray(0, SNIFF_BYTES));
    head = undefined;
    if (typeof maxBytes === "function") limit = maxBytes(mimeType);
    if (size > limit) throw mediaTooLarge(limit);
  };
  for await (const chunk of chunksOf(source)) {
    size += chunk.byteLength;
    if (size > limit) throw mediaTooLarge(limit);
    if (head) {
      head.push(chunk);
      if (size >= SNIFF_BYTES) await settleType();
    }
    hash.update(chunk);
    await write(chunk);
  }
  if (mimeType === undefined) await settleType();
  return { size, sha256: hash.digest("hex"), mimeType: mimeType! };
}

/**
 * The type of a file from its first bytes (file-type knows the magic numbers
 * of some hundred formats). Unrecognised bytes are `text/plain` when they
 * read as UTF-8 text without control characters, else
 * `application/octet-stream`; an empty file is octet-stream.
 */
export async function detectMimeType(head: Uint8Array): Promise<string> {
  const detected = await fileTypeFromBuffer(head);
  if (detected) return detected.mime;
  return head.byteLength > 0 && looksLikeText(head) ? "text/plain" : "application/octet-stream";
}

function looksLikeText(bytes: Uint8Array): boolean {
  try {
    // `stream`: a character cut at the end of the sample is not an error.
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true });
    return ![...text].some(isBinaryControl);
  } catch {
    return false;
  }
}

/** C0 controls and DEL, except tab, line feed, form feed and carriage return, which are text. */
function isBinaryControl(char: string): boolean {
  const code = char.charCodeAt(0);
  return (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0c && code !== 0x0d) || code === 0x7f;
}

/** The chunks of either kind of source; leaving the loop early cancels a web stream. */
async function* chunksOf(source: MediaSource): AsyncGenerator<Uint8Array> {
  if (!isWebStream(source)) {
    for await (const chunk of source) yield toBytes(chunk);
    return;
  }
  const reader = source.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      yield toBytes(next.value);
    }
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

function isWebStream(source: MediaSource): source is ReadableStream<Uint8Array> {
  return typeof (source as ReadableStream<Uint8Array>).getReader === "function";
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk);
  throw new TypeError("a media source must yield bytes (Uint8Array)");
}
