import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { TwilioMediaDownloads } from "../../../src/adapters/messaging/twilio/twilio-media.ts";
import { TwilioWebhookReceiver } from "../../../src/adapters/messaging/twilio/twilio-webhooks.ts";
import type { WebhookRequest } from "../../../src/domain/ports/messaging-provider.port.ts";
import { inboundParams, statusParams } from "../../fakes/twilio/signed-webhooks.ts";
import { RecordingMediaFetcher } from "./recording-media-fetcher.ts";

const TOKEN = "0123456789abcdef0123456789abcdef";
const ACCOUNT = `AC${"1".repeat(32)}`;
const URL_STATUS = "https://gw.example.test/webhooks/twilio/status";
const URL_INBOUND = "https://gw.example.test/webhooks/twilio/inbound";
const at = new Date("2026-11-02T10:00:00Z");
const unknown: string[] = [];
const fetcher = new RecordingMediaFetcher();
const receiver = new TwilioWebhookReceiver({
  authToken: TOKEN,
  media: new TwilioMediaDownloads({ fetcher, accountSid: ACCOUNT, authToken: TOKEN }),
  now: () => at,
  onUnknownStatus: (s) => void unknown.push(s),
});

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
const TWIML_ANSWER = { status: 200, contentType: "text/xml; charset=utf-8", body: EMPTY_TWIML };
const STATUS_ANSWER = { status: 204 };

/** A callback as the HTTP layer hands it over: a form body and Twilio's headers. */
function request(
  kind: string,
  url: string,
  params: Record<string, string>,
  signature: string | undefined,
  headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" },
): WebhookRequest {
  const all: Record<string, string> = {
    ...headers,
    ...(signature === undefined ? {} : { "x-twilio-signature": signature }),
  };
  return {
    kind,
    url,
    header: (name) => all[name.toLowerCase()],
    body: async () => new TextEncoder().encode(new URLSearchParams(params).toString()),
  };
}

function signed(kind: "inbound" | "status", params: Record<string, string>) {
  const url = kind === "inbound" ? URL_INBOUND : URL_STATUS;
  return receiver.receive(request(kind, url, params, twilio.getExpectedTwilioSignature(TOKEN, url, params)));
}

describe("TwilioWebhookReceiver", () => {
  it.each([
    ["queued", []],
    ["accepted", []],
    ["scheduled", []],
    ["sending", []],
    ["sent", [{ type: "status", providerMessageId: "SM1", status: "sent" }]],
    ["delivered", [{ type: "status", providerMessageId: "SM1", status: "delivered" }]],
    ["read", [{ type: "status", providerMessageId: "SM1", status: "read" }]],
    [
      "failed",
      [
        {
          type: "status",
          providerMessageId: "SM1",
          status: "failed",
          error: { code: "PROVIDER.REJECTED", message: "Twilio reported the message failed", retryable: false },
        },
      ],
    ],
  ])("maps MessageStatus %s, and answers 204", async (status, events) => {
    expect(await signed("status", statusParams({ accountSid: ACCOUNT, messageSid: "SM1", status }))).toEqual({
      ok: true,
      events,
      answer: STATUS_ANSWER,
    });
  });

  it("keeps ErrorCode and ErrorMessage on undelivered", async () => {
    const result = await signed(
      "status",
      statusParams({
        accountSid: ACCOUNT,
        messageSid: "SM1",
        status: "undelivered",
        errorCode: "30005",
        errorMessage: "Unknown destination handset",
      }),
    );
    expect(result).toEqual({
      ok: true,
      events: [
        {
          type: "status",
          providerMessageId: "SM1",
          status: "failed",
          error: {
            code: "PROVIDER.REJECTED",
            providerCode: "30005",
            message: "Unknown destination handset",
            retryable: false,
          },
        },
      ],
      answer: STATUS_ANSWER,
    });
  });

  it.each(["partially_delivered", "constructor", "__proto__"])(
    "accepts and ignores the unknown status %s",
    async (status) => {
      unknown.length = 0;
      expect(await signed("status", statusParams({ accountSid: ACCOUNT, messageSid: "SM1", status }))).toEqual({
        ok: true,
        events: [],
        answer: STATUS_ANSWER,
      });
      expect(unknown).toEqual([status]);
    },
  );

  it("parses an inbound SMS into an inbound message on the default session, and answers empty TwiML", async () => {
    const result = await signed(
      "inbound",
      inboundParams({ accountSid: ACCOUNT, messageSid: "SM9", from: "+15557654321", to: "+15550001111", body: "yo" }),
    );
    expect(result).toEqual({
      ok: true,
      events: [
        {
          type: "inbound",
          message: {
            provider: "twilio",
            session: "default",
            channel: "sms",
            from: "sms:+15557654321",
            to: "sms:+15550001111",
            text: "yo",
            media: [],
            providerMessageId: "SM9",
            at,
          },
        },
      ],
      answer: TWIML_ANSWER,
    });
  });

  it("reports each MediaUrlN as a file of its MediaContentTypeN's kind, fetched only when opened", async () => {
    const urls = [0, 1, 2, 3].map(
      (i) => `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Messages/MM9/Media/ME${i}`,
    );
    const types = ["image/jpeg", "video/mp4", "audio/ogg", "application/pdf"];
    const result = await signed(
      "inbound",
      inboundParams({
        accountSid: ACCOUNT,
        messageSid: "MM9",
        from: "whatsapp:+15557654321",
        to: "whatsapp:+15550001111",
        body: "look",
        media: urls.map((url, i) => ({ url, contentType: types[i]! })),
      }),
    );
    if (!result.ok || result.events[0]?.type !== "inbound") throw new Error("expected an inbound event");
    const { message } = result.events[0];
    expect(message.text).toBe("look");
    expect(
      message.media.map(({ kind, mimeType, filename, caption }) => ({ kind, mimeType, filename, caption })),
    ).toEqual([
      { kind: "image", mimeType: "image/jpeg", filename: undefined, caption: undefined },
      { kind: "video", mimeType: "video/mp4", filename: undefined, caption: undefined },
      { kind: "audio", mimeType: "audio/ogg", filename: undefined, caption: undefined },
      { kind: "document", mimeType: "application/pdf", filename: undefined, caption: undefined },
    ]);
    expect(fetcher.calls).toEqual([]);
    await message.media[1]!.open(1);
    expect(fetcher.calls.map((c) => c.url)).toEqual([urls[1]]);
  });

  it.each([
    ["a bad signature", { signature: "AAAA" }, "signature"],
    ["no signature", { signature: undefined }, "signature"],
    ["another URL", { url: URL_STATUS }, "signature"],
  ])("rejects %s before parsing", async (_, change, reason) => {
    const params = inboundParams({ accountSid: ACCOUNT, messageSid: "SM9", from: "+15557654321", to: "+15550001111" });
    const given = {
      url: URL_INBOUND,
      signature: twilio.getExpectedTwilioSignature(TOKEN, URL_INBOUND, params) as string | undefined,
      ...change,
    };
    expect(await receiver.receive(request("inbound", given.url, params, given.signature))).toMatchObject({
      ok: false,
      reason,
    });
  });

  it("refuses a body that is not a form before reading it, and a broken form before the signature", async () => {
    const params = inboundParams({ accountSid: ACCOUNT, messageSid: "SM9", from: "+15557654321", to: "+15550001111" });
    const signature = twilio.getExpectedTwilioSignature(TOKEN, URL_INBOUND, params);
    let read = false;
    const json: WebhookRequest = {
      ...request("inbound", URL_INBOUND, params, signature, { "content-type": "application/json" }),
      body: async () => {
        read = true;
        return new Uint8Array();
      },
    };
    expect(await receiver.receive(json)).toMatchObject({ ok: false, reason: "unsupported_media_type" });
    expect(read).toBe(false);

    const twice: WebhookRequest = {
      ...request("inbound", URL_INBOUND, params, signature),
      body: async () => new TextEncoder().encode("From=a&From=b"),
    };
    expect(await receiver.receive(twice)).toEqual({
      ok: false,
      reason: "malformed",
      detail: 'the body is not a valid form: field "From" appears more than once',
    });
  });

  it("lets a body above the limit through as the HTTP layer's error", async () => {
    const tooLarge = new Error("the body exceeds the limit");
    const big: WebhookRequest = {
      ...request("inbound", URL_INBOUND, {}, "x"),
      body: async () => {
        throw tooLarge;
      },
    };
    await expect(receiver.receive(big)).rejects.toBe(tooLarge);
  });

  it("serves its two callbacks and knows no other", async () => {
    expect(receiver.kinds).toEqual(["inbound", "status"]);
    expect(await receiver.receive(request("other", URL_INBOUND, {}, "x"))).toMatchObject({
      ok: false,
      reason: "malformed",
    });
  });

  it.each([
    ["NumMedia", "-1"],
    ["NumMedia", "1.5"],
    ["NumMedia", "999"],
    ["NumMedia", "2"],
  ])("rejects %s=%s as malformed", async (key, value) => {
    const params = {
      ...inboundParams({
        accountSid: ACCOUNT,
        messageSid: "SM9",
        from: "+15557654321",
        to: "+15550001111",
        mediaUrls: ["https://x/1"],
      }),
      [key]: value,
    };
    expect(await signed("inbound", params)).toMatchObject({ ok: false, reason: "malformed" });
  });
});
