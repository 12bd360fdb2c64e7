import { MediaFetchError } from "../../../domain/ports/media-fetcher.port.ts";

const SCHEMES = new Set(["http:", "https:"]);

/**
 * Parses a user-given media URL. WHATWG parsing also normalises the legacy
 * spellings of IPv4 hosts (`127.1`, `2130706433`, `0x7f000001`,
 * `017700000001` all become `127.0.0.1`), so the address check sees one form.
 * Throws `MEDIA.URL_INVALID` for anything but an http(s) URL without credentials.
 */
export function parseMediaUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new MediaFetchError("MEDIA.URL_INVALID", "the media URL is not a valid absolute URL");
  }
  if (!SCHEMES.has(url.protocol)) {
    throw new MediaFetchError("MEDIA.URL_INVALID", `only http and https media URLs are fetched, not ${url.protocol}`);
  }
  // Credentials in a URL end up in logs and in redirects; they have their own option.
  if (url.username !== "" || url.password !== "") {
    throw new MediaFetchError("MEDIA.URL_INVALID", "a media URL must not carry credentials");
  }
  return url;
}

/** The URL's host as a socket takes it: IPv6 without its brackets. */
export function bareHost(url: URL): string {
  const host = url.hostname;
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

export function portOf(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

const MAX_FILENAME_CHARS = 255;

/**
 * A file name for what was fetched: `filename*` (RFC 6266/8187) or
 * `filename` of `Content-Disposition`, else the last segment of the URL's
 * path. Any directory part and control characters are dropped, so the name
 * is safe to show and to put back in a header.
 */
export function filenameOf(contentDisposition: string | undefined, url: URL): string | undefined {
  const fromHeader = contentDisposition ? dispositionFilename(contentDisposition) : undefined;
  if (fromHeader !== undefined) {
    const clean = cleanFilename(fromHeader);
    if (clean) return clean;
  }
  const segment = url.pathname.split("/").pop() ?? "";
  return cleanFilename(safeDecode(segment));
}

function dispositionFilename(header: string): string | undefined {
  // filename*=UTF-8''na%C3%AFve.pdf wins over filename= (RFC 6266 section 4.3).
  const extended = /(?:^|;)\s*filename\*\s*=\s*([^';]*)'[^']*'([^;]*)/i.exec(header);
  if (extended) {
    const charset = (extended[1] ?? "").trim().toLowerCase();
    const value = (extended[2] ?? "").trim();
    if (charset === "utf-8") return safeDecode(value);
    // ISO-8859-1, the other charset RFC 8187 requires: one byte per character.
    if (charset === "iso-8859-1")
      return value.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  const quoted = /(?:^|;)\s*filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(header);
  if (quoted) return (quoted[1] ?? "").replace(/\\(.)/g, "$1");
  const token = /(?:^|;)\s*filename\s*=\s*([^;\s]+)/i.exec(header);
  return token?.[1];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function cleanFilename(name: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const base = (name.split(/[/\\]/).pop() ?? "").replace(/[\u0000-\u001f\u007f]/g, "").trim();
  if (base === "" || base === "." || base === "..") return undefined;
  return base.slice(0, MAX_FILENAME_CHARS);
}
