import type { WriteHealth } from "../errors.ts";
import { injectionToken, type InjectionToken } from "../injection-token.ts";

/** The bytes of a file, as a request body, a provider download or a file read gives them. */
export type MediaSource = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/** What the store knows of one stored file. */
export interface StoredMedia {
  readonly id: string;
  readonly size: number;
  /** Hex SHA-256 of the bytes. */
  readonly sha256: string;
  /**
   * The type read from the first bytes (`image/png`, `audio/ogg; codecs=opus`);
   * when nothing is recognised, `text/plain` for bytes that read as UTF-8
   * text, else `application/octet-stream`. Never the declared type.
   */
  readonly mimeType: string;
  readonly filename: string | undefined;
  readonly createdAt: Date;
}

export interface PutMediaOptions {
  /**
   * The most bytes the file may have; a file over it is refused with
   * `MEDIA.TOO_LARGE` as soon as it passes the limit, whether or not its size
   * was announced. A function is called once the type is read from the
   * first bytes and returns the limit for that type; an error it throws
   * (a type that is not accepted) refuses the file the same way.
   */
  readonly maxBytes: number | ((detectedMimeType: string) => number);
  readonly filename?: string;
  /** What the sender claimed (a Content-Type); kept for logs only, never trusted. */
  readonly declaredType?: string;
}

/**
 * Where media files live: written once, read many times, deleted by id or
 * by age. Shaped for a local disk and for an object store alike (a stream
 * in, a stream out, no paths).
 *
 * Content-addressed: the bytes are kept once per SHA-256. Every `put` makes
 * a new id with its own filename and creation time, even for bytes already
 * held, so deleting one id never takes the bytes from another id that
 * shares them; the bytes go with the last id that uses them.
 */
export interface MediaStore {
  /**
   * Streams `source` into the store, hashing it and reading its type on the
   * way, and resolves once the file is durable under its new id. A file
   * refused (too large, a type `maxBytes` rejects) or cut off (the source
   * fails) leaves nothing behind, and the source is cancelled.
   * @throws DomainError MEDIA.TOO_LARGE, or what `maxBytes` throws, or the source's error.
   */
  put(source: MediaSource, options: PutMediaOptions): Promise<StoredMedia>;

  /**
   * The file and its bytes, streamed from the start; undefined for an
   * unknown id. The stream reads a fixed copy: a delete after `get`
   * resolves does not cut it.
   */
  get(id: string): Promise<{ readonly meta: StoredMedia; readonly stream: ReadableStream<Uint8Array> } | undefined>;

  /** What is known of a file, without its bytes; undefined for an unknown id. */
  stat(id: string): Promise<StoredMedia | undefined>;

  /** Forgets an id, and its bytes unless another id shares them; false when the id was unknown. */
  delete(id: string): Promise<boolean>;

  /**
   * Retention: deletes every id created before `olderThan` for which
   * `stillNeeded` says false (as `delete` would), and any bytes no id uses
   * (left by a crash between writing and recording them). Returns how many
   * ids were deleted.
   */
  sweep(olderThan: Date, stillNeeded: (id: string) => boolean | Promise<boolean>): Promise<number>;

  /** Releases the store: a put still streaming fails and leaves nothing; later calls fail. */
  /**
   * Whether the store can write: `down` with the reason while its storage
   * fails (disk full, I/O errors); may try a tiny write to find out, so it
   * turns `ok` by itself once the storage recovers. Optional: a store with
   * no storage of its own (an in-memory fake) leaves it out.
   */
  health?(): Promise<WriteHealth>;

  close(): Promise<void>;
}

export const MediaStore: InjectionToken<MediaStore> = injectionToken("MediaStore");
