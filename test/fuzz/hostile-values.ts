import fc from "fast-check";

// Building blocks of hostile input, shared by every route's generator.

/** Strings that have broken parsers, validators, loggers or databases somewhere. */
export const EDGE_STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800", // lone high surrogate
  "\udfff", // lone low surrogate
  "x\udc00\ud800y", // reversed pair
  "\u202eevil\u202c", // right-to-left override
  "\u05e9\u05dc\u05d5\u05dd", // Hebrew (RTL)
  "👩‍👩‍👧‍👦",
  "🇷🇴",
  "\ufeff", // BOM
  "e\u0301", // combining accent
  "\u200b\u200d", // zero-width
  "\r\n\t\v\f",
  "%",
  "%00",
  "%ZZ",
  "..",
  "../../etc/passwd",
  "__proto__",
  "constructor",
  "prototype",
  "null",
  "undefined",
  "NaN",
  "-0",
  "1e309",
  "<script>alert(1)</script>",
  "'; DROP TABLE messages; --",
  "${jndi:ldap://x}",
  "+40712345678",
  "whatsapp:+40712345678",
  "sms:+15557654321",
  "whatsapp:",
  "+",
  "+0000000000000000",
  "default",
  "x".repeat(65),
  "x".repeat(4097),
];

/** Number tokens as they appear in JSON text, including ones JSON.stringify can never produce. */
export const RAW_NUMBERS: readonly string[] = [
  "1e309",
  "-1e309",
  "-0",
  "0.0000000000000000000000001",
  "1e-400",
  "123456789012345678901234567890",
  "-9007199254740993",
  "9007199254740993",
  "4.9e-324",
  "1.7976931348623157e308",
  "NaN", // not JSON
  "Infinity", // not JSON
  "0x1F", // not JSON
  "01", // not JSON
  ".5", // not JSON
  "1.", // not JSON
  "+1", // not JSON
];

/** Marks a raw token inside a value tree; replaced verbatim after JSON.stringify. */
const RAW = "\u2063RAW\u2063";

/** A placeholder that serializes to `token` exactly (see {@link toJsonText}). */
export function raw(token: string): string {
  return `${RAW}${token}${RAW}`;
}

/** JSON.stringify, then raw tokens spliced in: `{"a":1e309}` is reachable this way. */
export function toJsonText(value: unknown): string {
  const text = JSON.stringify(value) ?? "null";
  // The token went through JSON.stringify as a string: unescape it back to what it was.
  return text.replace(new RegExp(`"${RAW}(.*?)${RAW}"`, "g"), (_, token: string) => JSON.parse(`"${token}"`) as string);
}

/** Any string: edge cases, full Unicode with lone surrogates, ASCII, long runs. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...EDGE_STRINGS) },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("a", "€", "😀", "\u0000"), fc.integer({ min: 100, max: 20_000 }))
      .map(([c, n]) => c.repeat(n)),
  },
);

/** Any scalar JSON value, plus bad number tokens. */
export const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() }, // NaN and ±Infinity serialize as null
  { weight: 1, arbitrary: fc.constantFrom(...RAW_NUMBERS).map(raw) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map((n) => raw(n.toString())) },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
);

/** Arrays and objects nested `depth` levels, as JSON text (beyond what a generator tree would reach). */
export const deeplyNested: fc.Arbitrary<string> = fc
  // Up to ~60 KB of nesting: deeper would only hit the body limit.
  .tuple(fc.integer({ min: 50, max: 10_000 }), fc.boolean(), fc.boolean())
  .map(([depth, arrays, inObject]) => {
    const nested = arrays
      ? `${"[".repeat(depth)}${"]".repeat(depth)}`
      : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    // Inside an object too, so fields that must be objects (metadata) take it past their type check.
    return inObject ? `{"k":${nested}}` : nested;
  })
  .map(raw);

/** Any value: scalars, small trees, deep nesting. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileScalar },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileScalar, { maxKeys: 5 }) },
  { weight: 1, arbitrary: deeplyNested },
);

/**
 * An object for a route: often every field valid (so requests get deep into
 * the route: routing, the store, idempotency), else some fields hostile,
 * missing, or next to unknown ones.
 */
export function hostileObject(
  fields: Record<string, fc.Arbitrary<unknown>>,
  required: readonly string[] = [],
): fc.Arbitrary<Record<string, unknown>> {
  const mixed: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, valid] of Object.entries(fields))
    mixed[name] = fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: hostileValue });
  const extras = fc.dictionary(fc.oneof(hostileString, fc.constantFrom("__proto__", "constructor")), hostileValue, {
    maxKeys: 2,
  });
  return fc.oneof(
    { weight: 1, arbitrary: fc.record(fields, { requiredKeys: required.filter((k) => k in fields) }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.record(mixed, { requiredKeys: [] }), extras, fc.boolean())
        .map(([known, extra, withExtra]) => (withExtra ? { ...extra, ...known } : known)),
    },
  );
}

/** JSON text turned hostile: truncated, duplicated keys, junk around it, comments. */
function mutateText(text: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(text) },
    { weight: 1, arbitrary: fc.nat({ max: Math.max(0, text.length) }).map((n) => text.slice(0, n)) },
    { weight: 1, arbitrary: fc.constantFrom("\ufeff", " \n\t", "/*c*/", "x", ")]}'\n").map((p) => p + text) },
    { weight: 1, arbitrary: fc.constantFrom(",", "}", " garbage", "\u0000", "\n{}").map((s) => text + s) },
    {
      weight: 1,
      arbitrary: fc.constant(text.startsWith("{") && text.length > 2 ? `{"to":"+40700000000",${text.slice(1)}` : text),
    },
  );
}

/** Encodes text as UTF-8, sometimes splicing in bytes that are not UTF-8 (overlong, surrogate, 0xFF). */
function toBytes(text: string): fc.Arbitrary<Uint8Array> {
  const utf8 = new TextEncoder().encode(text);
  const invalid = [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]];
  return fc.oneof(
    { weight: 10, arbitrary: fc.constant(utf8) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.nat({ max: utf8.length }), fc.constantFrom(...invalid))
        .map(([at, bytes]) => Buffer.concat([utf8.subarray(0, at), Buffer.from(bytes), utf8.subarray(at)])),
    },
  );
}

/** A JSON-ish request body as bytes: mostly near-valid objects, sometimes any value, junk or nothing. */
export function hostileJsonBody(
  fields: Record<string, fc.Arbitrary<unknown>>,
  required: readonly string[] = [],
): fc.Arbitrary<Uint8Array> {
  const text = fc.oneof(
    { weight: 10, arbitrary: hostileObject(fields, required).map(toJsonText) },
    { weight: 2, arbitrary: hostileValue.map(toJsonText) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constantFrom("", "{", "[", "null", '{"a":1}{"b":2}', "{'to':1}", '"\\ud800"') },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 60_000, max: 80_000 }).map((n) => `{"to":"+40712345678","text":"${"y".repeat(n)}"}`),
    },
  );
  return text.chain(mutateText).chain(toBytes);
}

/** Header values a client can put on the wire: latin-1 without CR, LF or NUL. */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.string({
      unit: fc.constantFrom(..."abcXYZ019 ,;=/\\\"'\t-_.:+*%(){}[]<>?@éÿ\u0080\u00a0".split("")),
      maxLength: 60,
    }),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 100_000 }).map((n) => "h".repeat(n)) },
);

/** Lone surrogates replaced by U+FFFD (String.prototype.toWellFormed, which our ES2023 lib does not declare). */
export function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
}
