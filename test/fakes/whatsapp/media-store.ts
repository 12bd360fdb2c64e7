import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { open, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

/** An encrypted blob on the media server, reachable at `directPath` (one file can back several paths). */
export interface StoredBlob {
  readonly id: string;
  readonly directPath: string;
  readonly file: string;
  /** Encrypted size in bytes. */
  readonly size: number;
  /** Base64url SHA-256 of the encrypted bytes as received: the upload token. */
  readonly encSha256: string;
  /** Hex SHA-256 of the plaintext, once known (the simulator made the blob, or verified it). */
  plainSha256: string | undefined;
  /** Downloads answer 410 until the blob is uploaded again under a new path. */
  expired: boolean;
}

/** The upload went over the size limit (answered 413); nothing was kept. */
export class BlobTooLarge extends Error {}

/**
 * Blobs of the simulated media servers, each in its own file under `dir`:
 * uploads stream to disk, so a 50 MB document never sits whole in memory.
 */
export class MediaStore {
  private readonly byPath = new Map<string, StoredBlob>();

  constructor(private readonly dir: string) {}

  /** Streams `source` into a new blob; rejects with BlobTooLarge past `maxBytes` and leaves no file behind. */
  async putStream(source: Readable, maxBytes: number): Promise<StoredBlob> {
    const id = newId();
    const file = join(this.dir, `${id}.enc`);
    const hash = createHash("sha256");
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) {
          done(new BlobTooLarge(`upload larger than ${maxBytes} bytes`));
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, counter, createWriteStream(file, { mode: 0o600 }));
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
    return this.add(id, file, size, hash.digest("base64url"));
  }

  /** Stores bytes the simulator made itself (a simulated phone's upload). */
  async putBytes(blob: Uint8Array, plainSha256: string): Promise<StoredBlob> {
    const id = newId();
    const file = join(this.dir, `${id}.enc`);
    await writeFile(file, blob, { mode: 0o600 });
    const stored = this.add(id, file, blob.length, createHash("sha256").update(blob).digest("base64url"));
    stored.plainSha256 = plainSha256;
    return stored;
  }

  /** The blob a direct path or full URL names (query ignored), or undefined. */
  find(pathOrUrl: string): StoredBlob | undefined {
    return this.byPath.get(new URL(pathOrUrl, "https://media.invalid").pathname);
  }

  /** Forgets a blob and deletes its file (an upload refused after it was written). */
  async discard(blob: StoredBlob): Promise<void> {
    this.byPath.delete(blob.directPath);
    await rm(blob.file, { force: true });
  }

  /** Marks blobs expired: those whose plaintext hash is `plainSha256`, or all. Returns how many. */
  expire(plainSha256?: string): number {
    let count = 0;
    for (const blob of this.byPath.values()) {
      if (blob.expired || (plainSha256 !== undefined && blob.plainSha256 !== plainSha256)) continue;
      blob.expired = true;
      count++;
    }
    return count;
  }

  /** The same bytes uploaded again, under a new direct path (as a phone's re-upload gets). */
  reupload(blob: StoredBlob): StoredBlob {
    const copy = this.add(newId(), blob.file, blob.size, blob.encSha256);
    copy.plainSha256 = blob.plainSha256;
    return copy;
  }

  /** Flips one byte in the middle of the blob's file: the bytes no longer match what the uploader hashed. */
  async tamper(blob: StoredBlob): Promise<void> {
    const handle = await open(blob.file, "r+");
    try {
      const at = Math.floor(blob.size / 2);
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, at);
      byte[0] = byte[0]! ^ 0xff;
      await handle.write(byte, 0, 1, at);
    } finally {
      await handle.close();
    }
  }

  private add(id: string, file: string, size: number, encSha256: string): StoredBlob {
    const blob: StoredBlob = {
      id,
      directPath: `/v/t62.7118-24/${id}.enc`,
      file,
      size,
      encSha256,
      plainSha256: undefined,
      expired: false,
    };
    this.byPath.set(blob.directPath, blob);
    return blob;
  }
}

const newId = (): string => randomBytes(16).toString("hex");
