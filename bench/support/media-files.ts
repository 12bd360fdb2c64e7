// Large files for the media benchmark, written to disk a chunk at a time and
// hashed while written: the benchmark never holds a whole file in memory.
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { once } from "node:events";

export const MiB = 1024 * 1024;

/** A file on disk with what the simulator must find after decrypting it. */
export interface BenchFile {
  readonly path: string;
  readonly size: number;
  /** Hex SHA-256 of the whole file. */
  readonly sha256: string;
}

/** An mp4 `ftyp` box (24 bytes, brand isom), what type detection reads to call the bytes video/mp4. */
export const MP4_HEAD = Buffer.concat([
  Buffer.from([0, 0, 0, 0x18]),
  Buffer.from("ftypisom", "latin1"),
  Buffer.from([0, 0, 2, 0]),
  Buffer.from("isomiso2", "latin1"),
]);

export const PDF_HEAD = Buffer.from("%PDF-1.7\n", "latin1");

/**
 * Writes `head` then random filler up to `size` bytes, 1 MiB at a time,
 * waiting for the disk between chunks. Random filler, so no layer on the way
 * (TLS, the disk) could make a large file cheap by compressing it.
 */
export async function writeBenchFile(path: string, head: Buffer, size: number): Promise<BenchFile> {
  const out = createWriteStream(path, { mode: 0o600 });
  const hash = createHash("sha256");
  const write = async (chunk: Buffer): Promise<void> => {
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, "drain");
  };
  try {
    await write(head);
    for (let written = head.length; written < size;) {
      const chunk = randomBytes(Math.min(MiB, size - written));
      await write(chunk);
      written += chunk.length;
    }
    out.end();
    await once(out, "finish");
  } catch (error) {
    out.destroy();
    throw error;
  }
  return { path, size, sha256: hash.digest("hex") };
}
