import fc from "fast-check";
import { EDGE_STRINGS, headerValue, hostileString, wellFormed } from "./hostile-values.ts";

/** One request as the fuzz sends it through `app.request`. */
export interface FuzzRequest {
  readonly method: string;
  /** Path and query, as a client would write them (the URL parser normalizes them like a server does). */
  readonly path: string;
  /** In order; a repeated name is sent twice (fetch joins them with ", ", as proxies do). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body?: Uint8Array;
}

export type Headers = Array<[string, string]>;

/** Authorization: the right key most of the time (so requests reach the routes), else every way to get it wrong. */
export function authorization(apiKey: string): fc.Arbitrary<Headers> {
  const valid: [string, string] = ["authorization", `Bearer ${apiKey}`];
  return fc.oneof(
    { weight: 16, arbitrary: fc.constant<Headers>([valid]) },
    {
      weight: 2,
      arbitrary: fc.constantFrom<Headers>(
        [valid, valid], // duplicated: arrives as "Bearer k, Bearer k"
        [valid, ["authorization", "Bearer wrong"]],
        [["authorization", `bearer    ${apiKey}   `]],
        [["authorization", `Bearer ${apiKey}\t`]],
        [["authorization", `Bearer ${apiKey}x`]],
        [["authorization", `Basic ${Buffer.from(`user:${apiKey}`).toString("base64")}`]],
        [["authorization", "Bearer"]],
        [["authorization", ""]],
        [["authorization", `Bearer ${"k".repeat(100_000)}`]],
        [],
      ),
    },
    { weight: 1, arbitrary: headerValue.map((v): Headers => [["authorization", v]]) },
  );
}

const CONTENT_TYPES = [
  "application/json; charset=utf-8",
  'application/json;charset="UTF-16"',
  "application/json ; foo=bar;;",
  "APPLICATION/JSON",
  " application/json ",
  "application/vnd.gateway+json",
  "application/problem+json",
  "application/jsonx",
  "application/json, text/plain",
  "text/json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=----x",
  "*/*",
  "",
  ";",
  "application/",
];

/** Content-Type: mostly the one the route wants, else odd ones, odd parameters, or none. */
export function contentType(wanted: string): fc.Arbitrary<Headers> {
  return fc.oneof(
    { weight: 20, arbitrary: fc.constant<Headers>([["content-type", wanted]]) },
    { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES).map((t): Headers => [["content-type", t]]) },
    { weight: 1, arbitrary: headerValue.map((p): Headers => [["content-type", `${wanted}; ${p}`]]) },
    { weight: 1, arbitrary: fc.constant<Headers>([]) },
  );
}

/** Content-Length that matches, lies in either direction, or is not a number. */
export function contentLength(body: Uint8Array): fc.Arbitrary<Headers> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.constant<Headers>([]) },
    { weight: 4, arbitrary: fc.constant<Headers>([["content-length", String(body.length)]]) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          "0",
          "1",
          String(Math.max(0, body.length - 1)),
          String(body.length + 1),
          "99999999999999999999",
          "-1",
          "1e3",
          "chunked",
          " 12",
          "12, 12",
        )
        .map((v): Headers => [["content-length", v]]),
    },
  );
}

/** Headers a route does not read, some huge: they must change nothing. */
export const junkHeaders: fc.Arbitrary<Headers> = fc.array(
  fc.tuple(
    fc.constantFrom(
      "x-forwarded-for",
      "x-request-id",
      "accept",
      "accept-encoding",
      "accept-language",
      "traceparent",
      "cookie",
      "user-agent",
      "expect",
      "x-junk",
    ),
    headerValue,
  ),
  { maxLength: 3 },
);

/** A path segment: a plausible id, any string %-encoded, or raw sequences that upset decoders. */
export function segment(plausible: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: plausible },
    { weight: 2, arbitrary: hostileString.map((s) => encodeURIComponent(wellFormed(s))) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "%",
        "%00",
        "%ZZ",
        "%ED%A0%80",
        "%C0%AF",
        "..",
        "%2e%2e",
        "%2F",
        "a%2Fb",
        "%F0%9F%98%80",
        "%E2%80%AE",
        ";x=1",
        "*",
        "~",
        "'",
        "$",
        "@",
        "!",
        "%25",
        "%252F",
        "x".repeat(10_000),
      ),
    },
  );
}

/** A query string built from names the route knows and junk, values valid or not, sometimes %-encoded, sometimes raw. */
export function query(known: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const names = Object.keys(known);
  const pair = fc.oneof(
    ...names.map((name) =>
      fc.tuple(
        fc.constant(name),
        fc.oneof({ weight: 3, arbitrary: known[name]! }, { weight: 1, arbitrary: hostileString }),
      ),
    ),
    fc.tuple(fc.oneof(fc.constantFrom(...EDGE_STRINGS, "limit[]", "a.b", ""), hostileString), hostileString),
  );
  return fc.tuple(fc.array(pair, { maxLength: 4 }), fc.boolean()).map(([pairs, encode]) => {
    if (pairs.length === 0) return "";
    const text = (s: string) => (encode ? encodeURIComponent(wellFormed(s)) : s.replace(/[&#=]/g, ""));
    return `?${pairs.map(([k, v]) => `${text(k)}=${text(v)}`).join("&")}`;
  });
}

/** Puts the parts together, with a Content-Length that may lie about the body. */
export function withBody(
  method: string,
  path: string,
  headers: fc.Arbitrary<Headers>,
  body: fc.Arbitrary<Uint8Array>,
): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(headers, body)
    .chain(([h, b]) =>
      contentLength(b).map((length): FuzzRequest => ({ method, path, headers: [...h, ...length], body: b })),
    );
}
