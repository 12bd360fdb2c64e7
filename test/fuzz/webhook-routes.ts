import fc from "fast-check";
import { signedWebhook } from "../fakes/twilio/signed-webhooks.ts";
import { PUBLIC_BASE_URL } from "../support/twilio-gateway.ts";
import { headerValue, hostileString, wellFormed } from "./hostile-values.ts";
import type { FuzzRoute } from "./json-routes.ts";
import { contentType, junkHeaders, withBody, type FuzzRequest, type Headers } from "./request-parts.ts";

const sid = fc.oneof(fc.stringMatching(/^SM[0-9a-f]{32}$/), fc.constantFrom("SM", "MM0", "SMxyz"));

/** Twilio's field names with plausible values, each sometimes hostile. */
function twilioFields(accountSid: string): Record<string, fc.Arbitrary<string>> {
  return {
    MessageSid: sid,
    SmsSid: sid,
    AccountSid: fc.constantFrom(accountSid, `AC${"0".repeat(32)}`),
    From: fc.oneof(
      fc.constantFrom("+15557654321", "whatsapp:+40712345678", "WhatsApp:+4071", "12345", "TWILIO", "whatsapp:"),
      fc.stringMatching(/^\+[1-9]\d{6,14}$/),
    ),
    To: fc.constantFrom("+15550001111", "whatsapp:+15550001111", ""),
    Body: fc.string({ maxLength: 50 }),
    NumMedia: fc.constantFrom(
      "0",
      "1",
      "2",
      "20",
      "21",
      "-1",
      "1.5",
      "1e3",
      "NaN",
      "",
      " 1",
      "0x1",
      "9007199254740993",
    ),
    MediaUrl0: fc.webUrl(),
    MediaUrl1: fc.constantFrom("", "https://api.twilio.test/media/1"),
    MessageStatus: fc.constantFrom(
      "queued",
      "sent",
      "delivered",
      "read",
      "undelivered",
      "failed",
      "canceled",
      "DELIVERED",
      "bogus",
      "__proto__",
      "constructor",
      "hasOwnProperty",
      "",
    ),
    SmsStatus: fc.constantFrom("received", "sent", "delivered"),
    ErrorCode: fc.constantFrom("30003", "21610", "", "x"),
    ErrorMessage: fc.string({ maxLength: 30 }),
    ApiVersion: fc.constant("2010-04-01"),
  };
}

function params(accountSid: string): fc.Arbitrary<Record<string, string>> {
  const mixed: Record<string, fc.Arbitrary<string>> = {};
  for (const [name, plausible] of Object.entries(twilioFields(accountSid)))
    mixed[name] = fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 1, arbitrary: hostileString });
  return fc
    .tuple(
      fc.record(mixed, { requiredKeys: [] }),
      fc.dictionary(fc.oneof(hostileString, fc.constantFrom("__proto__", "constructor", "MediaUrl21")), hostileString, {
        maxKeys: 2,
      }),
    )
    .map(([known, extra]) => ({ ...extra, ...(known as Record<string, string>) }));
}

const webhookQuery = fc.constantFrom("", "", "", "?a=1", "?x=%ZZ", "?a=1&a=2", "?%00", "?é=😀", "?");

/**
 * Callbacks signed like Twilio signs them (the library's own helper, over
 * PUBLIC_BASE_URL and the query as the app will see it), mostly valid, else
 * forged, stripped or tampered after signing.
 */
function signed(kind: "inbound" | "status", authToken: string, accountSid: string): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(
      params(accountSid),
      webhookQuery,
      fc.constantFrom("valid", "valid", "valid", "valid", "forged", "missing", "tampered"),
      fc.boolean(),
      junkHeaders,
    )
    .chain(([fields, q, mode, clean, junk]) => {
      const values = clean
        ? Object.fromEntries(Object.entries(fields).map(([k, v]) => [wellFormed(k), wellFormed(v)]))
        : fields;
      const path = `/webhooks/twilio/${kind}${q}`;
      // The app rebuilds the signed URL from the query the URL parser left (`?é` arrives %-encoded).
      const signedUrl = `${PUBLIC_BASE_URL}/webhooks/twilio/${kind}${new URL(path, "http://localhost").search || (q === "?" ? "?" : "")}`;
      const signature = mode === "forged" ? "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" : mode === "missing" ? null : undefined;
      const { body, headers } = signedWebhook(
        authToken,
        signedUrl,
        values,
        signature === undefined ? {} : { signature },
      );
      const sent = mode === "tampered" ? body.replace(/=/, "=x") : body;
      const list: Headers = [...Object.entries(headers).filter(([name]) => name !== "content-type"), ...junk];
      return withBody(
        "POST",
        path,
        contentType("application/x-www-form-urlencoded").map((ct) => [...list, ...ct]),
        fc.constant(new TextEncoder().encode(sent)),
      );
    });
}

/** Any bytes posted at a webhook, with any signature or none. */
function unsigned(kind: "inbound" | "status"): fc.Arbitrary<FuzzRequest> {
  const form = fc.oneof(
    fc.dictionary(hostileString, hostileString, { maxKeys: 5 }).map((d) => new URLSearchParams(d).toString()),
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.constantFrom(
      "a=%ZZ",
      "a=1&a=2",
      "=x",
      "&&&",
      "a",
      "%",
      "MessageSid=SM1&MessageSid=SM2",
      "__proto__=1&constructor=2",
      "a=%ED%A0%80",
      "a=%C0%AF",
    ),
    fc.integer({ min: 60_000, max: 80_000 }).map((n) => `Body=${"b".repeat(n)}`),
  );
  const signature = fc.oneof(
    fc.constant<Headers>([]),
    headerValue.map((v): Headers => [["x-twilio-signature", v]]),
  );
  return fc.tuple(form, fc.constantFrom("", "?a=1", "?%")).chain(([body, q]) =>
    withBody(
      `POST`,
      `/webhooks/twilio/${kind}${q}`,
      fc.tuple(contentType("application/x-www-form-urlencoded"), signature, junkHeaders).map((l) => l.flat()),
      fc.constant(new TextEncoder().encode(body)),
    ),
  );
}

/** Both Twilio callbacks, signed and not. */
export function webhookRoutes(authToken: string, accountSid: string): FuzzRoute[] {
  return [
    {
      name: "POST /webhooks/twilio/inbound (signed)",
      target: "twilio",
      expectation: "webhook-inbound",
      requests: signed("inbound", authToken, accountSid),
    },
    {
      name: "POST /webhooks/twilio/status (signed)",
      target: "twilio",
      expectation: "webhook-status",
      requests: signed("status", authToken, accountSid),
    },
    {
      name: "POST /webhooks/twilio/inbound (unsigned)",
      target: "twilio",
      expectation: "webhook-inbound",
      requests: unsigned("inbound"),
    },
    {
      name: "POST /webhooks/twilio/status (unsigned)",
      target: "twilio",
      expectation: "webhook-status",
      requests: unsigned("status"),
    },
  ];
}
