import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { TwilioWebhookReceiver } from "../../../src/adapters/messaging/twilio/twilio-webhooks.ts";
import { inboundParams, statusParams } from "../../fakes/twilio/signed-webhooks.ts";

const TOKEN = "0123456789abcdef0123456789abcdef";
const ACCOUNT = `AC${"1".repeat(32)}`;
const URL_STATUS = "https://gw.example.test/webhooks/twilio/status";
const URL_INBOUND = "https://gw.example.test/webhooks/twilio/inbound";
const at = new Date("2026-11-02T10:00:00Z");
const unknown: string[] = [];
const receiver = new TwilioWebhookReceiver({
  authToken: TOKEN,
  now: () => at,
  onUnknownStatus: (s) => void unknown.push(s),
});

function signed(kind: "inbound" | "status", params: Record<string, string>) {
  const url = kind === "inbound" ? URL_INBOUND : URL_STATUS;
  return receiver.receive({ kind, url, params, signature: twilio.getExpectedTwilioSignature(TOKEN, url, params) });
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
  ])("maps MessageStatus %s", (status, events) => {
    expect(signed("status", statusParams({ accountSid: ACCOUNT, messageSid: "SM1", status }))).toEqual({
      ok: true,
      events,
    });
  });

  it("keeps ErrorCode and ErrorMessage on undelivered", () => {
    const result = signed(
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
    });
  });

  it.each(["partially_delivered", "constructor", "__proto__"])(
    "accepts and ignores the unknown status %s",
    (status) => {
      unknown.length = 0;
      expect(signed("status", statusParams({ accountSid: ACCOUNT, messageSid: "SM1", status }))).toEqual({
        ok: true,
        events: [],
      });
      expect(unknown).toEqual([status]);
    },
  );

  it("parses an inbound SMS into an inbound message on the default session", () => {
    const result = signed(
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
            mediaUrls: [],
            providerMessageId: "SM9",
            at,
          },
        },
      ],
    });
  });

  it.each([
    ["a bad signature", { signature: "AAAA" }, "signature"],
    ["no signature", { signature: undefined }, "signature"],
    ["another URL", { url: URL_STATUS }, "signature"],
  ])("rejects %s before parsing", (_, change, reason) => {
    const params = inboundParams({ accountSid: ACCOUNT, messageSid: "SM9", from: "+15557654321", to: "+15550001111" });
    const request = {
      kind: "inbound" as const,
      url: URL_INBOUND,
      params,
      signature: twilio.getExpectedTwilioSignature(TOKEN, URL_INBOUND, params),
      ...change,
    };
    expect(receiver.receive(request)).toMatchObject({ ok: false, reason });
  });

  it.each([
    ["NumMedia", "-1"],
    ["NumMedia", "1.5"],
    ["NumMedia", "999"],
    ["NumMedia", "2"],
  ])("rejects %s=%s as malformed", (key, value) => {
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
    expect(signed("inbound", params)).toMatchObject({ ok: false, reason: "malformed" });
  });
});
