import { createHash, randomBytes } from "node:crypto";
import { isIP } from "node:net";

/** A file Twilio fetched for an outbound message (MediaUrl), as the fake's control API lists it. */
export interface FetchedMedia {
  readonly url: string;
  /** The HTTP status of the last answer; 0 when nothing answered (refused, unreachable). */
  readonly status: number;
  readonly contentType: string | null;
  readonly size: number | null;
  /** Hex SHA-256 of the bytes received. */
  readonly sha256: string | null;
  readonly error: string | null;
}

const MAX_REDIRECTS = 3;
const FETCH_TIMEOUT_MS = 10_000;

/**
 * Fetches each MediaUrl of a new message, as Twilio does before it sends an
 * MMS, and says what came back. Only loopback addresses are ever fetched
 * (redirects included): anything else is recorded as refused without a
 * connection, so no test can make the fake reach outside this machine.
 * `deliverTo` replaces a URL's origin, as for callbacks (see FakeTwilioApi).
 */
export async function fetchMediaUrls(urls: readonly string[], deliverTo: string | undefined): Promise<FetchedMedia[]> {
  const fetched: FetchedMedia[] = [];
  for (const url of urls) fetched.push(await fetchOne(url, deliverTo));
  return fetched;
}

async function fetchOne(url: string, deliverTo: string | undefined): Promise<FetchedMedia> {
  const failed = (status: number, error: string): FetchedMedia => ({
    url,
    status,
    contentType: null,
    size: null,
    sha256: null,
    error,
  });
  let target: URL;
  try {
    target = new URL(url);
    if (deliverTo) target = new URL(`${target.pathname}${target.search}`, deliverTo);
  } catch {
    return failed(0, "not a URL");
  }
  const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (!isLoopback(target)) return failed(0, `the fake Twilio fetches loopback URLs only, not ${target.host}`);
    let res: Response;
    try {
      res = await fetch(target, { redirect: "manual", signal });
    } catch (error) {
      return failed(0, error instanceof Error ? error.message : String(error));
    }
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      target = new URL(location, target);
      continue;
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200) return failed(res.status, `answered ${res.status}: ${new TextDecoder().decode(bytes)}`);
    return {
      url,
      status: res.status,
      contentType: res.headers.get("content-type"),
      size: bytes.byteLength,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      error: null,
    };
  }
  return failed(0, `more than ${MAX_REDIRECTS} redirects`);
}

function isLoopback(url: URL): boolean {
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (isIP(host) === 4) return host.startsWith("127.");
  return isIP(host) === 6 && host === "::1";
}

/** A file of an incoming message, served at its MediaUrl. */
export interface InboundFile {
  readonly contentType: string;
  readonly bytes: Uint8Array;
}

/**
 * The files of incoming messages the fake posts, served where Twilio serves
 * them: `/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}`.
 */
export class InboundMediaFiles {
  private readonly files = new Map<string, InboundFile>();

  /** Keeps `file` for message `messageSid`; returns its path. */
  add(accountSid: string, messageSid: string, file: InboundFile): string {
    const path = `/2010-04-01/Accounts/${accountSid}/Messages/${messageSid}/Media/ME${randomBytes(16).toString("hex")}`;
    this.files.set(path, file);
    return path;
  }

  get(path: string): InboundFile | undefined {
    return this.files.get(path);
  }

  clear(): void {
    this.files.clear();
  }
}

/** `/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}`: the account it names, or undefined. */
export function mediaPathAccount(path: string): string | undefined {
  return /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/[^/]+\/Media\/[^/]+$/.exec(path)?.[1];
}
