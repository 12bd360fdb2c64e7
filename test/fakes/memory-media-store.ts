import { randomUUID } from "node:crypto";
import { takeIn } from "../../src/adapters/media-store/shared/media-intake.ts";
import { DomainError } from "../../src/domain/errors.ts";
import type { Clock } from "../../src/domain/ports/clock.port.ts";
import type { MediaSource, MediaStore, PutMediaOptions, StoredMedia } from "../../src/domain/ports/media-store.port.ts";

/**
 * The MediaStore in memory, for tests of what uses media: the same intake
 * (limit, hash, type) as the disk store, bytes kept once per hash.
 */
export class MemoryMediaStore implements MediaStore {
  readonly #items = new Map<string, StoredMedia>();
  readonly #blobs = new Map<string, Uint8Array>();
  readonly #clock: Clock;
  #closed = false;

  constructor(clock: Clock = { now: () => new Date() }) {
    this.#clock = clock;
  }

  /** How many distinct files (hashes) are held: what content addressing saves. */
  get blobCount(): number {
    return this.#blobs.size;
  }

  async put(source: MediaSource, options: PutMediaOptions): Promise<StoredMedia> {
    this.#ensureOpen();
    const chunks: Uint8Array[] = [];
    const intake = await takeIn(source, options.maxBytes, async (chunk) => void chunks.push(Uint8Array.from(chunk)));
    this.#ensureOpen();
    if (!this.#blobs.has(intake.sha256)) this.#blobs.set(intake.sha256, Buffer.concat(chunks));
    const meta: StoredMedia = {
      id: `med_${randomUUID()}`,
      size: intake.size,
      sha256: intake.sha256,
      mimeType: intake.mimeType,
      filename: options.filename,
      createdAt: this.#clock.now(),
    };
    this.#items.set(meta.id, meta);
    return meta;
  }

  async get(id: string): Promise<{ meta: StoredMedia; stream: ReadableStream<Uint8Array> } | undefined> {
    const meta = await this.stat(id);
    const bytes = meta && this.#blobs.get(meta.sha256);
    if (!meta || !bytes) return undefined;
    return {
      meta,
      stream: new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.slice());
          controller.close();
        },
      }),
    };
  }

  async stat(id: string): Promise<StoredMedia | undefined> {
    this.#ensureOpen();
    return this.#items.get(id);
  }

  async delete(id: string): Promise<boolean> {
    this.#ensureOpen();
    const meta = this.#items.get(id);
    if (!meta) return false;
    this.#items.delete(id);
    this.#dropUnused(meta.sha256);
    return true;
  }

  async sweep(olderThan: Date, stillNeeded: (id: string) => boolean | Promise<boolean>): Promise<number> {
    this.#ensureOpen();
    let removed = 0;
    for (const meta of [...this.#items.values()]) {
      if (meta.createdAt.getTime() >= olderThan.getTime() || (await stillNeeded(meta.id))) continue;
      if (await this.delete(meta.id)) removed++;
    }
    for (const sha256 of [...this.#blobs.keys()]) this.#dropUnused(sha256);
    return removed;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #dropUnused(sha256: string): void {
    if (![...this.#items.values()].some((m) => m.sha256 === sha256)) this.#blobs.delete(sha256);
  }

  #ensureOpen(): void {
    if (this.#closed) throw new DomainError("STORE.UNAVAILABLE", "the media store is closed");
  }
}
