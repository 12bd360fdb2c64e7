import { isIP } from "node:net";
import {
  MediaFetchError,
  type FetchedMedia,
  type MediaFetchOptions,
  type MediaFetcher,
} from "../../src/domain/ports/media-fetcher.port.ts";

/**
 * A MediaFetcher that passes only loopback URLs (127.0.0.0/8, ::1) to the one
 * it wraps and refuses every other without a connection or a DNS lookup:
 * tests that post arbitrary MediaUrls (the fuzz) never make the gateway
 * reach outside this machine. Redirects are the wrapped fetcher's; the local
 * servers of the tests never send one off the machine.
 */
export class LoopbackOnlyMediaFetcher implements MediaFetcher {
  constructor(private readonly inner: MediaFetcher) {}

  async fetch(url: string, options: MediaFetchOptions): Promise<FetchedMedia> {
    refuseUnlessLoopback(url);
    return this.inner.fetch(url, options);
  }

  async check(url: string): Promise<void> {
    refuseUnlessLoopback(url);
    return this.inner.check(url);
  }
}

function refuseUnlessLoopback(raw: string): void {
  let host: string;
  try {
    const url = new URL(raw);
    // Not http(s): the wrapped fetcher refuses it as invalid, without a lookup.
    if (url.protocol !== "http:" && url.protocol !== "https:") return;
    host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  } catch {
    throw new MediaFetchError("MEDIA.URL_INVALID", "not a URL");
  }
  const loopback = (isIP(host) === 4 && host.startsWith("127.")) || (isIP(host) === 6 && host === "::1");
  if (!loopback) throw new MediaFetchError("MEDIA.URL_FORBIDDEN", `tests fetch from this machine only, not ${host}`);
}
