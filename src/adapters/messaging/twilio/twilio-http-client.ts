import twilio from "twilio";
// Types only: the option types live in a namespace the index does not re-export.
import type RequestClient from "twilio/lib/base/RequestClient.js";

/**
 * The `twilio` library has no base-URL option (`region`/`edge` only rename
 * the twilio.com host), but it accepts any `RequestClient` as `httpClient`.
 * This one keeps everything the library does (form encoding, Basic auth,
 * error parsing into `RestException`) and only rewrites scheme, host and
 * port of each request to `baseUrl`: a local fake of the REST API in tests,
 * or an egress proxy in production. A path prefix on `baseUrl` is kept, so
 * `https://proxy.internal/twilio` maps `/2010-04-01/...` under `/twilio/`.
 */
export class BaseUrlRequestClient extends twilio.RequestClient {
  private readonly base: URL;

  constructor(baseUrl: string, options: RequestClient.RequestClientOptions = {}) {
    super(options);
    this.base = new URL(baseUrl);
    if (this.base.protocol !== "http:" && this.base.protocol !== "https:") {
      throw new Error(`Twilio API base URL must be http(s), got ${this.base.protocol}`);
    }
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: rebase(opts.uri, this.base) });
  }
}

/** `https://api.twilio.com/2010-04-01/X?q` on base `http://127.0.0.1:4010/p` -> `http://127.0.0.1:4010/p/2010-04-01/X?q`. */
export function rebase(uri: string, base: URL): string {
  const original = new URL(uri);
  const prefix = base.pathname.replace(/\/+$/, "");
  const target = new URL(base.href);
  target.pathname = `${prefix}${original.pathname}`;
  target.search = original.search;
  return target.href;
}
