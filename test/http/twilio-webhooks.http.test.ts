import twilio from "twilio";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inboundParams, statusParams } from "../fakes/twilio/signed-webhooks.ts";
import { eventually, startInProcessGateway } from "../support/in-process-gateway.ts";
import { mediaFixture, sha256Hex } from "../support/media-fixtures.ts";
import { parsePrometheus, sampleValue } from "../support/prometheus-text.ts";
import { PUBLIC_BASE_URL, startTwilioGateway, type TwilioGateway } from "../support/twilio-gateway.ts";

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

interface ApiMessage {
  id: string;
  direction: string;
  status: string;
  channel: string;
  provider: string;
  from: string | null;
  to: string | null;
  text: string;
  media: { kind: string; mimeType: string | null; sha256: string | null; url: string | null; error: unknown }[];
  providerMessageId: string | null;
  error: { code: string; message: string; providerCode?: string } | null;
  history: { status: string }[];
}

let t: TwilioGateway;
beforeEach(async () => {
  t = await startTwilioGateway();
});
afterEach(async () => {
  await t.close();
});

const inbound = (overrides: Partial<Parameters<typeof inboundParams>[0]> = {}) =>
  inboundParams({
    accountSid: t.fake.accountSid,
    messageSid: "SM00000000000000000000000000000001",
    from: "+15557654321",
    to: "+15550001111",
    body: "hi there",
    ...overrides,
  });

async function inboundMessages(): Promise<ApiMessage[]> {
  return ((await (await t.gw.call("GET", "/messages?direction=inbound")).json()) as { items: ApiMessage[] }).items;
}

async function problemCode(res: Response): Promise<string> {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return ((await res.json()) as { code: string }).code;
}

/** An SMS sent through the gateway and accepted by the fake: our id and Twilio's sid. */
async function sentMessage(): Promise<{ id: string; sid: string }> {
  const res = await t.gw.call("POST", "/messages", { body: { to: "sms:+15557654321", text: "tracked" } });
  const { id } = (await res.json()) as { id: string };
  const sent = await eventually(async () => {
    const m = (await (await t.gw.call("GET", `/messages/${id}`)).json()) as ApiMessage;
    return m.status === "sent" ? m : undefined;
  });
  return { id, sid: sent.providerMessageId! };
}

async function messageById(id: string): Promise<ApiMessage> {
  return (await (await t.gw.call("GET", `/messages/${id}`)).json()) as ApiMessage;
}

describe("POST /webhooks/twilio/inbound", () => {
  it("records a signed incoming SMS once, however often Twilio redelivers it, and answers empty TwiML", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await t.webhook("inbound", inbound());
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/xml/);
      expect(await res.text()).toBe(EMPTY_TWIML);
    }
    const items = await inboundMessages();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      direction: "inbound",
      status: "received",
      channel: "sms",
      provider: "twilio",
      from: "sms:+15557654321",
      to: "sms:+15550001111",
      text: "hi there",
      providerMessageId: "SM00000000000000000000000000000001",
    });
  });

  it("records a WhatsApp message with its media, held by the gateway, and a signed query string", async () => {
    const sticker = mediaFixture.webp(3_000);
    const url = t.fake.addInboundFile("SM00000000000000000000000000000001", {
      contentType: "image/webp",
      bytes: sticker,
    });
    const params = inbound({
      from: "whatsapp:+15557654321",
      to: "whatsapp:+15550001111",
      body: "",
      media: [{ url, contentType: "image/webp" }],
    });
    const res = await t.webhook("inbound", params, { query: "?tenant=a%20b&x=1" });
    expect(res.status).toBe(200);
    const [message] = await inboundMessages();
    expect(message).toMatchObject({
      channel: "whatsapp",
      from: "whatsapp:+15557654321",
      to: "whatsapp:+15550001111",
      text: "",
    });
    expect(message?.media).toEqual([
      expect.objectContaining({ kind: "image", mimeType: "image/webp", sha256: sha256Hex(sticker), error: null }),
    ]);
    const file = await t.gw.call("GET", message!.media[0]!.url!);
    expect(sha256Hex(new Uint8Array(await file.arrayBuffer()))).toBe(sha256Hex(sticker));
  });

  it.each([
    [
      "a forged signature",
      {
        signature: twilio.getExpectedTwilioSignature("not-the-token", `${PUBLIC_BASE_URL}/webhooks/twilio/inbound`, {}),
      },
    ],
    ["no signature", { signature: null }],
    [
      "a body changed after signing",
      { body: new URLSearchParams({ ...inboundParamsFixed(), Body: "tampered" }).toString() },
    ],
    [
      "a signature over the URL the app sees (Host header), not PUBLIC_BASE_URL",
      { signUrl: "http://localhost/webhooks/twilio/inbound" },
    ],
    ["a signature over another path", { signUrl: `${PUBLIC_BASE_URL}/webhooks/twilio/status` }],
    ["a query added after signing", { query: "?x=1", signUrl: `${PUBLIC_BASE_URL}/webhooks/twilio/inbound` }],
  ])("answers 403 and records nothing for %s", async (_, options) => {
    const res = await t.webhook("inbound", inboundParamsFixed(), options);
    expect(res.status).toBe(403);
    expect(await problemCode(res)).toBe("WEBHOOK.SIGNATURE_INVALID");
    expect(await inboundMessages()).toHaveLength(0);
    const metrics = parsePrometheus(await (await t.gw.call("GET", "/metrics")).text());
    expect(sampleValue(metrics, "gateway_webhook_signature_failures_total", { provider: "twilio" })).toBe(1);
  });

  it("answers 415 for a body that is not a form, signed or not", async () => {
    const json = await t.gw.call("POST", "/webhooks/twilio/inbound", { body: inboundParamsFixed(), auth: false });
    expect(json.status).toBe(415);
    expect(await problemCode(json)).toBe("REQUEST.UNSUPPORTED_MEDIA_TYPE");
    const none = await t.gw.call("POST", "/webhooks/twilio/inbound", { raw: "MessageSid=SM1", auth: false });
    expect(none.status).toBe(415);
    expect(await inboundMessages()).toHaveLength(0);
  });

  it.each(["Body=%zz&From=%2B1", "From=a&From=b", "=nameless", "Body=%E0%A4%A"])(
    "answers 400 for the broken form %j",
    async (raw) => {
      const res = await t.gw.call("POST", "/webhooks/twilio/inbound", {
        raw,
        headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": "x" },
        auth: false,
      });
      expect(res.status).toBe(400);
      expect(await problemCode(res)).toBe("REQUEST.INVALID");
    },
  );

  it.each([
    ["MessageSid", ["MessageSid", "SmsSid", "SmsMessageSid"]],
    ["From", ["From"]],
    ["NumMedia", ["MediaUrl0"]],
  ])("answers 400 for a genuine request missing %s, and records nothing", async (_, drop) => {
    const params: Record<string, string> = { ...inbound({ mediaUrls: ["https://api.twilio.com/media/ME1"] }) };
    for (const key of drop) delete params[key];
    const res = await t.webhook("inbound", params);
    expect(res.status).toBe(400);
    expect(await problemCode(res)).toBe("REQUEST.INVALID");
    expect(await inboundMessages()).toHaveLength(0);
  });

  it("answers 413 for a body above the limit", async () => {
    const res = await t.webhook("inbound", inbound({ body: "x".repeat(70 * 1024) }));
    expect(res.status).toBe(413);
    expect(await inboundMessages()).toHaveLength(0);
  });
});

describe("POST /webhooks/twilio/status", () => {
  const status = (sid: string, value: string, extra: { errorCode?: string; errorMessage?: string } = {}) =>
    statusParams({ accountSid: t.fake.accountSid, messageSid: sid, status: value, ...extra });

  it("moves a message forward as callbacks arrive in order", async () => {
    const { id, sid } = await sentMessage();
    for (const value of ["queued", "sent", "delivered", "read"]) {
      expect((await t.webhook("status", status(sid, value))).status).toBe(204);
    }
    const m = await messageById(id);
    expect(m.status).toBe("read");
    expect(m.history.map((h) => h.status)).toEqual(["queued", "sending", "sent", "delivered", "read"]);
  });

  it("never moves a status backwards when callbacks arrive out of order", async () => {
    const { id, sid } = await sentMessage();
    expect((await t.webhook("status", status(sid, "delivered"))).status).toBe(204);
    expect((await t.webhook("status", status(sid, "sent"))).status).toBe(204);
    expect((await t.webhook("status", status(sid, "sending"))).status).toBe(204);
    expect((await messageById(id)).status).toBe("delivered");
  });

  it("applies a callback that overtakes the answer to the send itself", async () => {
    t.fake.holdAnswers();
    const res = await t.gw.call("POST", "/messages", { body: { to: "sms:+15557654321", text: "fast" } });
    const { id } = (await res.json()) as { id: string };
    const sid = await eventually(() => t.fake.messages[0]?.sid, 10_000, "the fake to receive the create");
    expect((await t.webhook("status", status(sid, "delivered"))).status).toBe(204);
    expect((await messageById(id)).status).toBe("sending");
    t.fake.release();
    const m = await eventually(async () => {
      const current = await messageById(id);
      return current.status === "delivered" ? current : undefined;
    });
    expect(m.providerMessageId).toBe(sid);
  });

  it("fails an undelivered message and keeps Twilio's ErrorCode and ErrorMessage", async () => {
    const { id, sid } = await sentMessage();
    const res = await t.webhook(
      "status",
      status(sid, "undelivered", { errorCode: "30003", errorMessage: "Unreachable destination handset" }),
    );
    expect(res.status).toBe(204);
    const m = await messageById(id);
    expect(m.status).toBe("failed");
    expect(m.error).toMatchObject({
      code: "PROVIDER.REJECTED",
      providerCode: "30003",
      message: "Unreachable destination handset",
    });
  });

  it("accepts a callback signed over the StatusCallback URL the message was created with", async () => {
    const { id, sid } = await sentMessage();
    const statusCallback = t.fake.messages.find((m) => m.sid === sid)?.statusCallback;
    expect(statusCallback).toBe(`${PUBLIC_BASE_URL}/webhooks/twilio/status`);
    const params = status(sid, "delivered");
    const res = await t.webhook("status", params, { signUrl: statusCallback! });
    expect(res.status).toBe(204);
    expect((await messageById(id)).status).toBe("delivered");
  });

  it("answers 403 for a forged status and leaves the message as it was", async () => {
    const { id, sid } = await sentMessage();
    const forged = twilio.getExpectedTwilioSignature(
      "guessed",
      `${PUBLIC_BASE_URL}/webhooks/twilio/status`,
      status(sid, "failed"),
    );
    const res = await t.webhook("status", status(sid, "failed", { errorCode: "30007" }), { signature: forged });
    expect(res.status).toBe(403);
    expect(await problemCode(res)).toBe("WEBHOOK.SIGNATURE_INVALID");
    const m = await messageById(id);
    expect(m.status).toBe("sent");
    expect(m.error).toBeNull();
  });

  it("answers 400 for a genuine callback without MessageStatus", async () => {
    const { id, sid } = await sentMessage();
    const params: Record<string, string> = { ...status(sid, "delivered") };
    delete params.MessageStatus;
    delete params.SmsStatus;
    const res = await t.webhook("status", params);
    expect(res.status).toBe(400);
    expect((await messageById(id)).status).toBe("sent");
  });
});

describe("POST /webhooks/{provider}/{kind}", () => {
  it("answers 404 problem+json for a kind the provider does not make, and records nothing", async () => {
    const res = await t.webhook("inbound", inbound());
    expect(res.status).toBe(200);
    const unknownKind = await t.gw.call("POST", "/webhooks/twilio/delivery", {
      raw: new URLSearchParams(inbound()).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
      auth: false,
    });
    expect(unknownKind.status).toBe(404);
    expect(await problemCode(unknownKind)).toBe("ROUTE.NOT_FOUND");
    expect(await inboundMessages()).toHaveLength(1);
  });

  it("answers 404 problem+json for a provider that does not run here or does not exist", async () => {
    for (const provider of ["baileys", "nope"]) {
      const res = await t.gw.call("POST", `/webhooks/${provider}/inbound`, {
        raw: new URLSearchParams(inbound()).toString(),
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect(res.status, provider).toBe(404);
      expect(await problemCode(res)).toBe("ROUTE.NOT_FOUND");
    }
    expect(await inboundMessages()).toHaveLength(0);
  });

  it("keeps an API key required under /webhooks for anything but a known provider's callbacks", async () => {
    const res = await t.gw.call("POST", "/webhooks/nope/inbound", { raw: "a=b", auth: false });
    expect(res.status).toBe(401);
    expect((await t.gw.call("GET", "/webhooks/deliveries", { auth: false })).status).toBe(401);
  });
});

describe("a gateway without the Twilio provider", () => {
  it("serves no Twilio webhook routes", async () => {
    const plain = await startInProcessGateway();
    try {
      const res = await plain.call("POST", "/webhooks/twilio/inbound", {
        raw: "a=b",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        auth: false,
      });
      expect(res.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

// Used inside it.each tables, which are built before beforeEach runs.
function inboundParamsFixed(): Record<string, string> {
  return inboundParams({
    accountSid: "AC00000000000000000000000000000000",
    messageSid: "SM00000000000000000000000000000002",
    from: "+15557654321",
    to: "+15550001111",
    body: "hello",
  });
}
