import type { FetchedMedia, MediaFetchOptions, MediaFetcher } from "../../../src/domain/ports/media-fetcher.port.ts";

/** What one fetch was asked for. */
export interface FetchCall {
  readonly url: string;
  readonly credentials: MediaFetchOptions["credentials"] | null;
}

/**
 * An in-memory MediaFetcher: answers every fetch with `bytes`, or with the
 * error `failWith` holds, and records what it was asked (URL, credentials).
 * Nothing is ever fetched from a network.
 */
export class RecordingMediaFetcher implements MediaFetcher {
  readonly calls: FetchCall[] = [];
  failWith: Error | undefined;

  constructor(private readonly bytes: Uint8Array = new TextEncoder().encode("file")) {}

  async fetch(url: string, options: MediaFetchOptions): Promise<FetchedMedia> {
    this.calls.push({ url, credentials: options.credentials ?? null });
    if (this.failWith) throw this.failWith;
    const bytes = this.bytes;
    return {
      stream: (async function* () {
        yield bytes;
      })(),
      contentLength: bytes.byteLength,
      finalUrl: url,
    };
  }

  async check(): Promise<void> {}
}
