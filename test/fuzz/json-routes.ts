import fc from "fast-check";
import { MessageStatuses } from "../../src/domain/message-status.ts";
import type { Expectation } from "./fuzz-checks.ts";
import type { TargetName } from "./fuzz-targets.ts";
import { headerValue, hostileJsonBody, hostileString } from "./hostile-values.ts";
import {
  authorization,
  contentType,
  junkHeaders,
  query,
  segment,
  withBody,
  type FuzzRequest,
  type Headers,
} from "./request-parts.ts";

/** One route under fuzz: where it runs, what it answers on success, and how to make requests for it. */
export interface FuzzRoute {
  readonly name: string;
  readonly target: TargetName;
  readonly expectation: Expectation;
  readonly requests: fc.Arbitrary<FuzzRequest>;
}

const e164 = fc.stringMatching(/^\+[1-9]\d{6,14}$/);

/** Fields of POST /messages, valid for the target's provider (hostile variants are mixed in by hostileObject). */
function messageFields(channel: "whatsapp" | "sms"): Record<string, fc.Arbitrary<unknown>> {
  const number = fc.oneof(fc.constantFrom("+40712345678", "+15557654321"), e164);
  return {
    to: fc.tuple(fc.constantFrom("", `${channel}:`), number).map(([prefix, n]) => prefix + n),
    text: fc.oneof(
      { weight: 5, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) },
      { weight: 1, arbitrary: fc.constant("") },
    ),
    channel: fc.constant(channel),
    provider: fc.constant(channel === "sms" ? "twilio" : "baileys"),
    session: fc.constantFrom("default", ...(channel === "sms" ? [] : ["other"])),
    from: fc.constantFrom("+15550001111", `${channel}:+15550001111`),
    mediaUrls: fc.array(
      fc.oneof(
        {
          weight: 4,
          arbitrary: fc.constantFrom("https://media.example.test/a.jpg", "http://media.example.test/b.png?x=1"),
        },
        {
          weight: 1,
          arbitrary: fc.oneof(
            fc.webUrl(),
            fc.constantFrom("javascript:alert(1)", "https://", "http://[::1", `https://x.test/${"a".repeat(3000)}`),
          ),
        },
      ),
      { maxLength: 3 },
    ),
    metadata: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
  };
}

// A few keys reused so replays and conflicts happen, plus every malformed form.
const idempotencyKey: fc.Arbitrary<Headers> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Headers>([]) },
  { weight: 3, arbitrary: fc.constantFrom("k1", "k2", "order-42").map((k): Headers => [["idempotency-key", k]]) },
  { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,40}$/).map((k): Headers => [["idempotency-key", k]]) },
  { weight: 1, arbitrary: headerValue.map((k): Headers => [["idempotency-key", k]]) },
  {
    weight: 1,
    arbitrary: fc.constant<Headers>([
      ["idempotency-key", "a"],
      ["idempotency-key", "b"],
    ]),
  },
);

const sessionId = segment(
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("default", "s1", "s2", "o1", "o2") },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,12}$/) },
  ),
);
const deliveryId = segment(
  fc.oneof(
    fc.uuid().map((u) => `whd_${u}`),
    fc.constantFrom("whd_", "whd_../x", "evt_1"),
  ),
);
const messageId = segment(
  fc.oneof(fc.uuid(), fc.constantFrom("01a210d9-57fb-72ef-b2d6-22e45adf5147", "does-not-exist")),
);

function headers(apiKey: string, ...parts: fc.Arbitrary<Headers>[]): fc.Arbitrary<Headers> {
  return fc.tuple(authorization(apiKey), junkHeaders, ...parts).map((lists) => lists.flat());
}

function get(
  apiKey: string,
  path: fc.Arbitrary<string>,
  extra: fc.Arbitrary<Headers> = fc.constant([]),
): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(path, headers(apiKey, extra)).map(([p, h]) => ({ method: "GET", path: p, headers: h }));
}

function post(
  apiKey: string,
  method: string,
  path: fc.Arbitrary<string>,
  fields: Record<string, fc.Arbitrary<unknown>>,
  extra: fc.Arbitrary<Headers> = fc.constant([]),
): fc.Arbitrary<FuzzRequest> {
  const required = Object.keys(fields).slice(0, 2);
  return path.chain((p) =>
    withBody(method, p, headers(apiKey, contentType("application/json"), extra), hostileJsonBody(fields, required)),
  );
}

/** Every JSON route of the HTTP contract. */
export function jsonRoutes(apiKey: string): FuzzRoute[] {
  const sessionPath = (suffix: string) => sessionId.map((id) => `/sessions/${id}${suffix}`);
  return [
    {
      name: "POST /messages",
      target: "memory",
      expectation: "json",
      requests: post(apiKey, "POST", fc.constant("/messages"), messageFields("whatsapp"), idempotencyKey),
    },
    {
      name: "POST /messages (twilio)",
      target: "twilio",
      expectation: "json",
      requests: post(apiKey, "POST", fc.constant("/messages"), messageFields("sms"), idempotencyKey),
    },
    {
      name: "GET /messages",
      target: "memory",
      expectation: "json",
      requests: get(
        apiKey,
        query({
          direction: fc.constantFrom("inbound", "outbound", "INBOUND"),
          status: fc.constantFrom(...MessageStatuses),
          session: fc.constantFrom("default", "other", "../x"),
          limit: fc.oneof(
            fc.integer({ min: -5, max: 200 }).map(String),
            fc.constantFrom("1e2", "0x10", "5.0", " 5", "-0", "١٢"),
          ),
          cursor: fc.oneof(fc.base64String({ maxLength: 40 }), fc.stringMatching(/^[A-Za-z0-9_-]{1,60}$/)),
        }).map((q) => `/messages${q}`),
      ),
    },
    {
      name: "GET /messages/{id}",
      target: "memory",
      expectation: "json",
      requests: get(
        apiKey,
        messageId.map((id) => `/messages/${id}`),
      ),
    },
    {
      name: "GET /sessions",
      target: "sessions",
      expectation: "json",
      requests: get(
        apiKey,
        query({ state: fc.constant("open") }).map((q) => `/sessions${q}`),
      ),
    },
    {
      name: "POST /sessions",
      target: "sessions",
      expectation: "json",
      requests: post(apiKey, "POST", fc.constant("/sessions"), {
        id: fc.oneof(
          fc.constantFrom("default", "s1", "s2", "o1", "o2"),
          fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,12}$/),
        ),
      }),
    },
    { name: "GET /sessions/{id}", target: "sessions", expectation: "json", requests: get(apiKey, sessionPath("")) },
    {
      name: "GET /sessions/{id}/qr",
      target: "sessions",
      expectation: "json",
      requests: get(
        apiKey,
        sessionPath("/qr"),
        fc.oneof(
          fc.constant<Headers>([]),
          fc
            .constantFrom("image/png", "image/png;q=0", "*/*", "application/json, image/png", "text/html")
            .map((a): Headers => [["accept", a]]),
        ),
      ),
    },
    {
      name: "POST /sessions/{id}/pairing-code",
      target: "sessions",
      expectation: "json",
      requests: post(apiKey, "POST", sessionPath("/pairing-code"), {
        phone: fc.oneof(e164, fc.constantFrom("40712345678", "+1", "+40 712 345 678")),
      }),
    },
    {
      name: "POST /sessions/{id}/connect",
      target: "sessions",
      expectation: "json",
      // The route reads no body: send one anyway, any shape.
      requests: sessionPath("/connect").chain((p) =>
        withBody("POST", p, headers(apiKey, contentType("application/json")), hostileJsonBody({ x: hostileString })),
      ),
    },
    {
      name: "DELETE /sessions/{id}",
      target: "sessions",
      expectation: "json",
      requests: fc.tuple(sessionPath(""), headers(apiKey)).map(([p, h]) => ({ method: "DELETE", path: p, headers: h })),
    },
    {
      name: "GET /webhooks/deliveries",
      target: "memory",
      expectation: "json",
      requests: get(
        apiKey,
        query({
          status: fc.constantFrom("pending", "delivered", "failed", "FAILED"),
          limit: fc.integer({ min: -5, max: 200 }).map(String),
          cursor: fc.stringMatching(/^[A-Za-z0-9_-]{1,60}$/),
        }).map((q) => `/webhooks/deliveries${q}`),
      ),
    },
    {
      name: "GET /webhooks/deliveries/{id}",
      target: "memory",
      expectation: "json",
      requests: get(
        apiKey,
        deliveryId.map((id) => `/webhooks/deliveries/${id}`),
      ),
    },
    {
      name: "POST /webhooks/deliveries/{id}/retry",
      target: "memory",
      expectation: "json",
      requests: deliveryId.chain((id) =>
        withBody(
          "POST",
          `/webhooks/deliveries/${id}/retry`,
          headers(apiKey, contentType("application/json")),
          hostileJsonBody({ x: hostileString }),
        ),
      ),
    },
    { name: "any method, any path", target: "memory", expectation: "any", requests: anyRequest(apiKey) },
    {
      name: "any method, any path (rate limited)",
      target: "limited",
      expectation: "any",
      requests: anyRequest(apiKey),
    },
  ];
}

/** Any method on known, odd and mangled paths: routing, auth and the 404/405 answers. */
function anyRequest(apiKey: string): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(
      fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "PROPFIND", "get"),
      fc.oneof(
        fc.constantFrom(
          "/",
          "/messages",
          "/messages/",
          "//messages",
          "/MESSAGES",
          "/sessions",
          "/sessions/default/qr/",
          "/health",
          "/ready",
          "/metrics",
          "/openapi.json",
          "/docs",
          "/webhooks/twilio/inbound",
          "/webhooks/twilio/../../messages",
          "/%2e%2e/messages",
          "/messages/..%2f..",
          "/messages;x",
          "/messages?x",
        ),
        segment(fc.constantFrom("messages", "sessions")).map((s) => `/${s}`),
      ),
      headers(apiKey),
    )
    .map(([method, path, h]) => ({ method, path, headers: h }));
}
