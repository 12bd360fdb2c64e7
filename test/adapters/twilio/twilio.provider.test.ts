import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BaseUrlRequestClient, rebase } from "../../../src/adapters/messaging/twilio/twilio-http-client.ts";
import { TwilioProvider } from "../../../src/adapters/messaging/twilio/twilio.provider.ts";
import { HttpMediaFetcher } from "../../../src/adapters/media-fetch/http/http.media-fetcher.ts";
import { SignedMediaLinks } from "../../../src/app/media/signed-media-links.ts";
import { ProviderError } from "../../../src/domain/errors.ts";
import type { MessageMedia } from "../../../src/domain/media.ts";
import { systemClock } from "../../../src/domain/ports/clock.port.ts";
import type { Message } from "../../../src/domain/message.ts";
import { silentLogger, type Logger } from "../../../src/domain/ports/logger.port.ts";
import type { MessagingProvider } from "../../../src/domain/ports/messaging-provider.port.ts";
import { FakeTwilioApi } from "../../fakes/twilio/fake-twilio-api.ts";
import { LoopbackOnlyMediaFetcher } from "../../support/loopback-media-fetcher.ts";
import { aSendingMessage } from "../../support/message-mother.ts";

const FROM = "+15550001111";
const logged: string[] = [];
const record = (fields: unknown, message?: string) =>
  void logged.push(JSON.stringify({ ...(fields as object), message }));
const logger: Logger = { ...silentLogger, info: record, warn: record, error: record };

let fake: FakeTwilioApi;
beforeEach(async () => {
  logged.length = 0;
  fake = new FakeTwilioApi();
  await fake.start();
});
afterEach(async () => {
  await fake.close();
});

// Not served: the fake refuses to fetch links that are not on this machine, and records that.
const PUBLIC_BASE_URL = "https://gw.example.test";
const links = new SignedMediaLinks(PUBLIC_BASE_URL, "provider-test-media-link-secret-0123", systemClock);

function provider(overrides: Partial<ConstructorParameters<typeof TwilioProvider>[0]> = {}): TwilioProvider {
  return new TwilioProvider({
    accountSid: fake.accountSid,
    authToken: fake.authToken,
    from: FROM,
    apiBaseUrl: fake.url,
    publicMediaLinks: links,
    mediaFetcher: new LoopbackOnlyMediaFetcher(new HttpMediaFetcher()),
    logger,
    ...overrides,
  });
}

function held(id: string, overrides: Partial<MessageMedia> = {}): MessageMedia {
  return {
    id,
    kind: "image",
    mimeType: "image/png",
    size: 10,
    sha256: "0".repeat(64),
    filename: null,
    caption: null,
    sourceUrl: null,
    error: null,
    ...overrides,
  };
}

/** The media id and query a signed link carries. */
function linkParts(link: string): { id: string; exp: string | null; sig: string | null } {
  const url = new URL(link);
  const match = /^\/media\/([^/]+)\/public$/.exec(url.pathname);
  expect(url.origin).toBe(PUBLIC_BASE_URL);
  return { id: decodeURIComponent(match![1]!), exp: url.searchParams.get("exp"), sig: url.searchParams.get("sig") };
}

function aMessage(overrides: Partial<Message> = {}): Message {
  return aSendingMessage({
    id: "msg-1",
    channel: "sms",
    provider: "twilio",
    session: "default",
    to: "sms:+15557654321",
    ...overrides,
  });
}

async function sendError(p: TwilioProvider, message = aMessage()): Promise<ProviderError> {
  const error = await p.send(message).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe("TwilioProvider", () => {
  it("declares one always-ready session and both channels, and stops being ready once stopped", async () => {
    const p = provider();
    await p.start();
    expect(p.id).toBe("twilio");
    expect([...p.channels].sort()).toEqual(["sms", "whatsapp"]);
    expect(p.hasSession("default")).toBe(true);
    expect(p.hasSession("other")).toBe(false);
    expect(p.isReady("default")).toBe(true);
    expect((p as MessagingProvider).sessions).toBeUndefined();
    await p.stop();
    expect(p.isReady("default")).toBe(false);
    expect((await sendError(p)).retryable).toBe(true);
    expect(fake.requests).toHaveLength(0);
  });

  it("returns Twilio's sid and sends the StatusCallback it was given", async () => {
    const p = provider({ statusCallbackUrl: "https://gw.example.test/webhooks/twilio/status" });
    const receipt = await p.send(aMessage());
    expect(receipt.providerMessageId).toBe(fake.messages[0]?.sid);
    expect(receipt.status).toBe("sent");
    expect(fake.messages[0]).toMatchObject({
      to: "+15557654321",
      from: FROM,
      body: "hello",
      statusCallback: "https://gw.example.test/webhooks/twilio/status",
    });
  });

  it("uses the message's own sender over the configured one, in Twilio's notation for its channel", async () => {
    const p = provider({ messagingServiceSid: `MG${"0".repeat(32)}` });
    await p.send(aMessage({ channel: "whatsapp", to: "whatsapp:+15557654321", from: "whatsapp:+15559998888" }));
    expect(fake.messages[0]).toMatchObject({
      to: "whatsapp:+15557654321",
      from: "whatsapp:+15559998888",
      messagingServiceSid: null,
    });
  });

  it.each([
    [400, 21211, "Invalid 'To' Phone Number"],
    [400, 21610, "Attempt to send to unsubscribed recipient"],
    [400, 63016, "Failed to send freeform message because you are outside the allowed window."],
    [400, 21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number"],
    [400, 21614, "'To' number is not a valid mobile number"],
  ])("makes a %i with Twilio code %i terminal, keeping code and message", async (status, code, message) => {
    fake.fail({ status, code });
    const error = await sendError(provider());
    expect(error).toMatchObject({ providerId: "twilio", retryable: false, providerCode: String(code), message });
  });

  it.each([
    [429, 20429],
    [500, 20500],
    [503, 20503],
    [401, 20003],
  ])("makes a %i (Twilio %i) retryable", async (status, code) => {
    fake.fail({ status, code });
    const error = await sendError(provider());
    expect(error.retryable).toBe(true);
    expect(error.providerCode).toBe(String(code));
  });

  it("makes wrong credentials a 401 from the fake: retryable, and the token is in no error or log", async () => {
    const error = await sendError(provider({ authToken: "wrong-token-value-0123" }));
    expect(error).toMatchObject({ retryable: true, providerCode: "20003", message: "Authenticate" });
    expect(JSON.stringify(logged)).not.toContain("wrong-token-value-0123");
  });

  it("makes network failures retryable, and leaks neither the token nor the Basic auth header", async () => {
    fake.fail({ status: 0 });
    const dropped = await sendError(provider());
    expect(dropped.retryable).toBe(true);
    expect(dropped.providerCode).toBeUndefined();
    const afterClose = provider();
    await fake.close();
    const refused = await sendError(afterClose);
    expect(refused.retryable).toBe(true);
    expect(refused.message).toMatch(/ECONNREFUSED/);
    const basic = Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString("base64");
    for (const text of [
      dropped.message,
      refused.message,
      JSON.stringify(dropped),
      JSON.stringify(refused),
      ...logged,
    ]) {
      expect(text).not.toContain(fake.authToken);
      expect(text).not.toContain(basic);
    }
  });

  it("sends each held attachment as a MediaUrl, a signed link to it, with the text as Body", async () => {
    const p = provider();
    await p.send(aMessage({ text: "two photos", media: [held("med_a"), held("med_b")] }));
    const form = fake.creates()[0]?.form;
    expect(form?.Body).toBe("two photos");
    const urls = form?.MediaUrl as string[];
    expect(urls).toHaveLength(2);
    expect(urls.map((url) => linkParts(url).id)).toEqual(["med_a", "med_b"]);
    for (const url of urls) {
      const { id, exp, sig } = linkParts(url);
      expect(links.check(id, exp ?? undefined, sig ?? undefined)).toMatchObject({ ok: true });
      // Valid for a day: Twilio may fetch late when it queues the message.
      expect(Number(exp) * 1000 - Date.now()).toBeGreaterThan(23 * 3_600_000);
    }
    // The fake only fetches from this machine: the link is recorded, refused, never connected to.
    expect(fake.messages[0]?.media.map((m) => [m.url, m.status])).toEqual(urls.map((url) => [url, 0]));
  });

  it("sends an attachment without text as MediaUrl alone, and a WhatsApp caption as its Body", async () => {
    const p = provider();
    await p.send(aMessage({ text: "", media: [held("med_c")] }));
    expect(fake.creates()[0]?.form).not.toHaveProperty("Body");
    await p.send(
      aMessage({
        channel: "whatsapp",
        to: "whatsapp:+15557654321",
        text: "",
        media: [held("med_d", { caption: "hi" })],
      }),
    );
    expect(fake.creates()[1]?.form.Body).toBe("hi");
  });

  it("refuses an attachment the gateway does not hold: not retryable, media-not-ready, nothing sent", async () => {
    const p = provider();
    const notHeld = { ...held("med_e"), id: null, sha256: null, sourceUrl: "https://example.com/a.png" };
    const error = await sendError(p, aMessage({ media: [held("med_f"), notHeld] }));
    expect(error).toMatchObject({ providerId: "twilio", retryable: false, providerCode: "media-not-ready" });
    expect(error.message).toMatch(/attachment 2/);
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses to start without a sender", () => {
    expect(() => provider({ from: undefined })).toThrow(/sender/);
  });
});

describe("BaseUrlRequestClient", () => {
  it("moves scheme, host and port to the base and keeps a path prefix and the query", () => {
    const uri = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=20";
    expect(rebase(uri, new URL("http://127.0.0.1:4010"))).toBe(
      "http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Messages.json?PageSize=20",
    );
    expect(rebase(uri, new URL("https://proxy.internal/twilio/"))).toBe(
      "https://proxy.internal/twilio/2010-04-01/Accounts/AC1/Messages.json?PageSize=20",
    );
  });

  it("refuses a base URL that is not http(s)", () => {
    expect(() => new BaseUrlRequestClient("ftp://proxy.internal")).toThrow(/http/);
  });
});
