import { lookup as dnsLookup } from "node:dns/promises";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { rootCertificates } from "node:tls";
import {
  MediaFetchError,
  type FetchedMedia,
  type MediaFetchOptions,
  type MediaFetcher,
} from "../../../domain/ports/media-fetcher.port.ts";
import { canonicalAddress, judgeAddress, judgeHostname, type AddressVerdict } from "./address-guard.ts";
import { bareHost, filenameOf, parseMediaUrl, portOf } from "./media-url.ts";

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Every address a name resolves to (`dns.lookup` with `all: true` by default). */
export type Resolve = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface HttpMediaFetcherOptions {
  /**
   * Lifts the address check entirely (MEDIA_FETCH_ALLOW_PRIVATE=true). A
   * testing setting: with it, any user can make the gateway fetch from its
   * own network.
   */
  readonly allowPrivate?: boolean;
  /**
   * Exact `ip:port` endpoints (`127.0.0.1:8080`, `[::1]:8080`) allowed even
   * though their address is not public; every other port of that address
   * stays refused. For tests: an allowed server can redirect to a refused one.
   */
  readonly allowAddresses?: readonly string[];
  /** From the start of a request to its response headers, each hop. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Longest silence while the body streams. Default 30 s. */
  readonly idleTimeoutMs?: number;
  /** The whole fetch, redirects and body included. Default 10 min. */
  readonly totalTimeoutMs?: number;
  /** Default 3. */
  readonly maxRedirects?: number;
  /** Replaces the system resolver (tests). */
  readonly resolve?: Resolve;
  /** A certificate authority to trust for https besides the usual roots (tests). */
  readonly ca?: string | Buffer;
  readonly userAgent?: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Both say "try again later" though they are 4xx.
const RETRYABLE_4XX = new Set([408, 429]);

/**
 * Fetches media over `node:http`/`node:https`. Each connection goes through
 * a `lookup` that resolves the name, refuses the whole fetch if any address
 * is not public, and hands the socket exactly the addresses it checked, so a
 * DNS answer that changes between check and connect (rebinding) cannot slip
 * through. IP-literal hosts never reach `lookup` and are checked before the
 * request. Every redirect is checked the same way.
 */
export class HttpMediaFetcher implements MediaFetcher {
  readonly #allowPrivate: boolean;
  readonly #allowed: ReadonlySet<string>;
  readonly #connectTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #totalTimeoutMs: number;
  readonly #maxRedirects: number;
  readonly #resolve: Resolve;
  readonly #ca: string | Buffer | undefined;
  readonly #userAgent: string;

  constructor(options: HttpMediaFetcherOptions = {}) {
    this.#allowPrivate = options.allowPrivate ?? false;
    this.#allowed = new Set((options.allowAddresses ?? []).map(parseEndpoint));
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.#totalTimeoutMs = options.totalTimeoutMs ?? 600_000;
    this.#maxRedirects = options.maxRedirects ?? 3;
    this.#resolve = options.resolve ?? ((hostname) => dnsLookup(hostname, { all: true }));
    this.#ca = options.ca;
    this.#userAgent = options.userAgent ?? "messaging-gateway-media";
  }

  async check(raw: string): Promise<void> {
    const url = parseMediaUrl(raw);
    const host = bareHost(url);
    const port = portOf(url);
    this.#checkHost(host, port);
    if (isIP(host) !== 0) return;
    let addresses: readonly ResolvedAddress[];
    try {
      addresses = await this.#resolve(host);
    } catch (error) {
      throw connectionFailure(error);
    }
    this.#checkAddresses(host, port, addresses);
  }

  async fetch(raw: string, options: MediaFetchOptions): Promise<FetchedMedia> {
    options.signal?.throwIfAborted();
    const first = parseMediaUrl(raw);
    const deadline = Date.now() + this.#totalTimeoutMs;
    const authorization = options.credentials
      ? `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString("base64")}`
      : undefined;
    let url = first;
    for (let redirects = 0; ; redirects++) {
      // Credentials belong to the URL's own origin; a redirect elsewhere never gets them.
      const response = await this.#request(url, {
        authorization: url.origin === first.origin ? authorization : undefined,
        deadline,
        signal: options.signal,
      });
      const status = response.statusCode ?? 0;
      if (!REDIRECTS.has(status)) return this.#accept(response, url, options, deadline);
      response.destroy();
      if (redirects >= this.#maxRedirects) {
        throw new MediaFetchError("MEDIA.FETCH_FAILED", `more than ${this.#maxRedirects} redirects`, false, status);
      }
      url = nextHop(url, response.headers.location, status);
    }
  }

  #checkHost(host: string, port: number): void {
    if (this.#allowPrivate) return;
    if (isIP(host) !== 0) {
      const verdict = this.#admit(host, port);
      if (!verdict.public) throw forbidden(`${host} is a ${verdict.range} address`);
      return;
    }
    const verdict = judgeHostname(host);
    if (!verdict.public) throw forbidden(`${host} is a ${verdict.range}`);
  }

  #admit(address: string, port: number): AddressVerdict {
    if (this.#allowPrivate) return { public: true };
    const verdict = judgeAddress(address);
    if (verdict.public) return verdict;
    const canonical = canonicalAddress(address);
    return canonical !== undefined && this.#allowed.has(endpoint(canonical, port)) ? { public: true } : verdict;
  }

  /** Stricter than keeping the public ones: a name with any private address is not fetched at all. */
  #checkAddresses(host: string, port: number, addresses: readonly ResolvedAddress[]): void {
    if (addresses.length === 0) throw new MediaFetchError("MEDIA.FETCH_FAILED", `${host} has no address`, true);
    for (const { address } of addresses) {
      const verdict = this.#admit(address, port);
      if (!verdict.public) throw forbidden(`${host} resolves to ${address}, a ${verdict.range} address`);
    }
  }

  /** The `lookup` a socket calls: resolves, checks, and answers only with the checked addresses. */
  #guardedLookup(port: number, refusal: { error?: MediaFetchError }): LookupFunction {
    return (hostname, options, callback) => {
      this.#resolve(hostname).then(
        (resolved) => {
          try {
            this.#checkAddresses(hostname, port, resolved);
          } catch (error) {
            refusal.error = error as MediaFetchError;
            callback(refusal.error, "");
            return;
          }
          const family = options.family === 4 || options.family === 6 ? options.family : undefined;
          const addresses = resolved
            .filter((entry) => family === undefined || entry.family === family)
            .map(({ address, family }) => ({ address, family }));
          const [chosen] = addresses;
          if (!chosen)
            callback(Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: "ENOTFOUND" }), "");
          else if (options.all) callback(null, addresses);
          else callback(null, chosen.address, chosen.family);
        },
        (error: NodeJS.ErrnoException) => callback(error, ""),
      );
    };
  }

  #request(
    url: URL,
    hop: { authorization: string | undefined; deadline: number; signal: AbortSignal | undefined },
  ): Promise<IncomingMessage> {
    const host = bareHost(url);
    const port = portOf(url);
    this.#checkHost(host, port);
    const refusal: { error?: MediaFetchError } = {};
    const headers: Record<string, string> = { "user-agent": this.#userAgent, accept: "*/*" };
    if (hop.authorization) headers.authorization = hop.authorization;
    const client = url.protocol === "https:" ? https : http;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = client.request({
        protocol: url.protocol,
        hostname: host,
        port,
        path: `${url.pathname}${url.search}`,
        method: "GET",
        headers,
        // A fresh socket per hop: nothing pooled, so every connection goes through the check.
        agent: false,
        ...(isIP(host) === 0 ? { lookup: this.#guardedLookup(port, refusal) } : {}),
        // `ca` replaces Node's roots rather than adding to them, so the roots go first.
        ...(this.#ca !== undefined && url.protocol === "https:" ? { ca: [...rootCertificates, this.#ca] } : {}),
      });
      const waitMs = Math.max(0, Math.min(this.#connectTimeoutMs, hop.deadline - Date.now()));
      const timer = setTimeout(
        () =>
          request.destroy(
            new MediaFetchError("MEDIA.FETCH_FAILED", `no response from ${url.host} within ${waitMs} ms`, true),
          ),
        waitMs,
      );
      const onAbort = (): void => void request.destroy(hop.signal?.reason as Error);
      hop.signal?.addEventListener("abort", onAbort, { once: true });
      const settle = (): void => {
        clearTimeout(timer);
        hop.signal?.removeEventListener("abort", onAbort);
      };
      request.once("response", (response) => {
        settle();
        resolve(response);
      });
      // Kept after the response too: an error nobody listens to would crash the process.
      request.on("error", (error) => {
        settle();
        if (hop.signal?.aborted) reject(hop.signal.reason);
        else reject(refusal.error ?? (error instanceof MediaFetchError ? error : connectionFailure(error)));
      });
      request.end();
    });
  }

  #accept(response: IncomingMessage, url: URL, options: MediaFetchOptions, deadline: number): FetchedMedia {
    const status = response.statusCode ?? 0;
    if (status !== 200 && status !== 203) {
      response.destroy();
      const retryable = status >= 500 || RETRYABLE_4XX.has(status);
      throw new MediaFetchError("MEDIA.FETCH_FAILED", `${url.host} answered ${status}`, retryable, status);
    }
    const contentLength = parseLength(response.headers["content-length"]);
    if (contentLength !== undefined && contentLength > options.maxBytes) {
      // Refused on the announcement alone: not one byte of the body is read.
      response.destroy();
      throw tooLarge(options.maxBytes, `${contentLength} bytes announced`);
    }
    const contentType = response.headers["content-type"];
    const filename = filenameOf(response.headers["content-disposition"], url);
    return {
      stream: this.#body(response, options, deadline),
      ...(contentType ? { contentType } : {}),
      ...(contentLength !== undefined ? { contentLength } : {}),
      ...(filename ? { filename } : {}),
      finalUrl: url.href,
    };
  }

  /**
   * The body as it is read. Its timers start now, not on the first read, so a
   * caller that never reads still has the connection closed for it.
   */
  #body(response: IncomingMessage, options: MediaFetchOptions, deadline: number): AsyncIterable<Uint8Array> {
    const idleMs = this.#idleTimeoutMs;
    let failure: Error | undefined;
    // Recorded rather than thrown: the reader sees it, and an unread stream's error never goes unhandled.
    response.on("error", (error) => (failure ??= error));
    const fail = (error: Error): void => void response.destroy(error);
    const idleTimer = (): NodeJS.Timeout => setTimeout(() => fail(timedOut(`no data for ${idleMs} ms`)), idleMs);
    let idle = idleTimer();
    const total = setTimeout(
      () => fail(timedOut(`not finished within ${this.#totalTimeoutMs} ms`)),
      Math.max(0, deadline - Date.now()),
    );
    const onAbort = (): void => fail(options.signal?.reason as Error);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    response.once("close", () => {
      clearTimeout(idle);
      clearTimeout(total);
      options.signal?.removeEventListener("abort", onAbort);
    });
    return (async function* read(): AsyncGenerator<Uint8Array> {
      let received = 0;
      try {
        for await (const chunk of response as AsyncIterable<Buffer>) {
          received += chunk.length;
          if (received > options.maxBytes)
            throw tooLarge(options.maxBytes, `more than ${options.maxBytes} bytes received`);
          clearTimeout(idle);
          idle = idleTimer();
          yield chunk;
        }
        if (failure) throw failure;
      } catch (error) {
        const cause = failure ?? error;
        if (options.signal?.aborted) throw options.signal.reason;
        throw cause instanceof MediaFetchError ? cause : connectionFailure(cause);
      } finally {
        // Too large, left by the reader, or failed: the connection goes and the rest is never read.
        if (!response.complete) response.destroy();
      }
    })();
  }
}

function nextHop(from: URL, location: string | undefined, status: number): URL {
  if (!location)
    throw new MediaFetchError("MEDIA.FETCH_FAILED", `redirect ${status} without a Location`, false, status);
  let next: URL;
  try {
    next = parseMediaUrl(new URL(location, from).href);
  } catch (error) {
    const reason = error instanceof MediaFetchError ? error.message : "not a URL";
    throw forbidden(`a redirect was refused: ${reason}`);
  }
  if (from.protocol === "https:" && next.protocol === "http:") {
    throw forbidden("a redirect from https to http was refused");
  }
  return next;
}

function parseEndpoint(entry: string): string {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(entry.trim());
  const canonical = match ? canonicalAddress(match[1]!) : undefined;
  if (!match || canonical === undefined) throw new Error(`allowAddresses: "${entry}" is not ip:port`);
  return endpoint(canonical, Number(match[2]));
}

const endpoint = (canonicalIp: string, port: number): string => `${canonicalIp}|${port}`;

function parseLength(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

const forbidden = (reason: string): MediaFetchError =>
  new MediaFetchError("MEDIA.URL_FORBIDDEN", `the media URL is refused: ${reason}`);

const tooLarge = (maxBytes: number, detail: string): MediaFetchError =>
  new MediaFetchError("MEDIA.TOO_LARGE", `the media is larger than ${maxBytes} bytes (${detail})`);

const timedOut = (detail: string): MediaFetchError =>
  new MediaFetchError("MEDIA.FETCH_FAILED", `the media download timed out: ${detail}`, true);

function connectionFailure(error: unknown): MediaFetchError {
  const code = (error as { code?: unknown }).code;
  const detail = typeof code === "string" ? code : error instanceof Error ? error.message : String(error);
  return new MediaFetchError("MEDIA.FETCH_FAILED", `the media could not be fetched: ${detail}`, true);
}
