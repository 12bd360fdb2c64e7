import { createHash } from "node:crypto";

/**
 * Files as type detection sees them: the real magic bytes of each format,
 * then filler up to `size`. Enough to be recognised, not to be decoded.
 */
export const mediaFixture = {
  png: (size = 1024) => withHead(size, pngHead()),
  jpeg: (size = 1024) => withHead(size, [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...ascii("JFIF"), 0x00]),
  webp: (size = 1024) => withHead(size, [...ascii("RIFF"), ...u32le(size - 8), ...ascii("WEBPVP8 ")]),
  mp4: (size = 1024) => withHead(size, [0, 0, 0, 0x18, ...ascii("ftypisom"), 0, 0, 2, 0, ...ascii("isomiso2")]),
  oggOpus: (size = 1024) =>
    withHead(size, [...ascii("OggS"), 0, 2, ...new Array<number>(22).fill(0), ...ascii("OpusHead")]),
  pdf: (size = 1024) => withHead(size, ascii("%PDF-1.7\n")),
  /** A Linux executable (ELF). */
  elf: (size = 1024) => withHead(size, [0x7f, ...ascii("ELF"), 2, 1, 1, 0]),
  /** A Windows executable (`MZ`, PE). */
  exe: (size = 1024) => withHead(size, ascii("MZ")),
  text: (size = 1024) => Buffer.from("hello, plain text\n".repeat(Math.ceil(size / 18)).slice(0, size)),
};

export const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** `bytes` as a stream of `chunkSize` chunks with no length known up front (chunked transfer). */
export function chunked(bytes: Uint8Array, chunkSize = 64 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

/** A stream of `size` bytes that starts with `head` and is made as it is read: nothing held whole. */
export function generated(head: Uint8Array, size: number, chunkSize = 64 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= size) return controller.close();
      const chunk = new Uint8Array(Math.min(chunkSize, size - offset)).fill(0x5a);
      if (offset < head.byteLength) chunk.set(head.subarray(offset, offset + chunk.byteLength));
      controller.enqueue(chunk);
      offset += chunk.byteLength;
    },
  });
}

function withHead(size: number, head: readonly number[] | Uint8Array): Buffer {
  const bytes = Buffer.alloc(Math.max(size, head.length), 0x5a);
  Buffer.from(head as number[]).copy(bytes);
  return bytes;
}

function ascii(text: string): number[] {
  return [...Buffer.from(text, "latin1")];
}

function u32le(n: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return [...b];
}

function u32be(n: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return [...b];
}

/** PNG signature and a 1x1 IHDR chunk (file-type reads the first chunk to tell PNG from APNG). */
function pngHead(): number[] {
  return [
    0x89,
    ...ascii("PNG"),
    0x0d,
    0x0a,
    0x1a,
    0x0a,
    ...u32be(13),
    ...ascii("IHDR"),
    ...u32be(1),
    ...u32be(1),
    8,
    2,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ];
}
