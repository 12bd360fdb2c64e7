import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryMessagingProvider } from "../fakes/memory-messaging-provider.ts";
import { eventually } from "../support/in-process-gateway.ts";
import { mediaFixture, sha256Hex } from "../support/media-fixtures.ts";
import { PUBLIC_BASE_URL, TWILIO_FROM, startTwilioGateway, type TwilioGateway } from "../support/twilio-gateway.ts";

interface ApiMessage {
  id: string;
  status: string;
  provider: string;
  channel: string;
  attempts: number;
  providerMessageId: string | null;
  error: { code: string; message: string; retryable: boolean; providerCode?: string } | null;
  history: { status: string }[];
}

let t: TwilioGateway | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await t?.close();
  t = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A file server on a loopback port; its origin. */
async function serveFiles(files: Record<string, Uint8Array>): Promise<string> {
  const server = createServer((req, res) => {
    const body = files[req.url ?? ""];
    res.writeHead(body ? 200 : 404, { "content-type": "application/octet-stream" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function post(gw: TwilioGateway, body: Record<string, unknown>): Promise<Response> {
  return gw.gw.call("POST", "/messages", { body });
}

async function accepted(gw: TwilioGateway, body: Record<string, unknown>): Promise<ApiMessage> {
  const res = await post(gw, body);
  expect(res.status).toBe(202);
  return (await res.json()) as ApiMessage;
}

async function settled(gw: TwilioGateway, id: string): Promise<ApiMessage> {
  return eventually(
    async () => {
      const m = (await (await gw.gw.call("GET", `/messages/${id}`)).json()) as ApiMessage;
      return m.status === "sent" || m.status === "failed" ? m : undefined;
    },
    15_000,
    `message ${id} to settle`,
  );
}

describe("sending through Twilio (real library, fake REST API)", () => {
  it("sends an SMS with form fields, Basic auth and the status callback, and keeps Twilio's sid", async () => {
    t = await startTwilioGateway();
    const message = await accepted(t, { to: "sms:+15557654321", text: "hello over sms" });
    expect(message).toMatchObject({ provider: "twilio", channel: "sms", status: "queued" });
    const sent = await settled(t, message.id);
    expect(sent.status).toBe("sent");
    expect(sent.attempts).toBe(1);

    const [create] = t.fake.creates();
    expect(create?.path).toBe(`/2010-04-01/Accounts/${t.fake.accountSid}/Messages.json`);
    expect(create?.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(create?.auth).toEqual({ username: t.fake.accountSid, password: t.fake.authToken });
    expect(create?.form).toEqual({
      To: "+15557654321",
      From: TWILIO_FROM,
      Body: "hello over sms",
      StatusCallback: `${PUBLIC_BASE_URL}/webhooks/twilio/status`,
    });
    expect(sent.providerMessageId).toBe(t.fake.messages[0]?.sid);
    expect(sent.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it("sends through a Messaging Service, with files given by URL: held first, then linked for Twilio", async () => {
    const service = `MG${"ab".repeat(16)}`;
    const files = { "/a.png": mediaFixture.png(5_000), "/b.jpg": mediaFixture.jpeg(7_000) };
    const origin = await serveFiles(files);
    t = await startTwilioGateway(
      // The files are on this machine: the testing setting lets the gateway fetch them.
      { TWILIO_FROM: "", TWILIO_MESSAGING_SERVICE_SID: service, MEDIA_FETCH_ALLOW_PRIVATE: "true" },
      [],
      { listen: true },
    );
    const message = await accepted(t, {
      to: "sms:+15557654321",
      text: "look",
      mediaUrls: [`${origin}/a.png`, `${origin}/b.jpg`],
    });
    expect((await settled(t, message.id)).status).toBe("sent");
    const form = t.fake.creates()[0]?.form;
    expect(form?.MessagingServiceSid).toBe(service);
    expect(form).not.toHaveProperty("From");
    // Twilio never sees the client's URLs: it gets the gateway's links to the copies it holds.
    const urls = form?.MediaUrl as string[];
    expect(urls.map((url) => url.startsWith(`${t!.publicBaseUrl}/media/`))).toEqual([true, true]);
    expect(t.fake.messages[0]?.media.map((m) => [m.status, m.sha256])).toEqual([
      [200, sha256Hex(files["/a.png"])],
      [200, sha256Hex(files["/b.jpg"])],
    ]);
  });

  it("retries a 429 through the dispatcher: the message ends sent after 2 attempts", async () => {
    t = await startTwilioGateway();
    t.fake.fail({ status: 429, code: 20429, times: 1 });
    const message = await accepted(t, { to: "sms:+15557654321", text: "busy" });
    const sent = await settled(t, message.id);
    expect(sent.status).toBe("sent");
    expect(sent.attempts).toBe(2);
    expect(t.fake.creates().map((r) => r.status)).toEqual([429, 201]);
    expect(t.fake.messages).toHaveLength(1);
  });

  it("retries a 503 and a dropped connection too", async () => {
    t = await startTwilioGateway();
    t.fake.fail({ status: 503, code: 20503 });
    t.fake.fail({ status: 0 });
    const message = await accepted(t, { to: "sms:+15557654321", text: "flaky" });
    const sent = await settled(t, message.id);
    expect(sent.status).toBe("sent");
    expect(sent.attempts).toBe(3);
  });

  it("fails a message Twilio refuses (21211) at once, keeping Twilio's code and message", async () => {
    t = await startTwilioGateway();
    const twilioMessage = "The 'To' number +15557654321 is not a valid phone number.";
    t.fake.fail({ status: 400, code: 21211, message: twilioMessage });
    const message = await accepted(t, { to: "sms:+15557654321", text: "nobody" });
    const failed = await settled(t, message.id);
    expect(failed.status).toBe("failed");
    expect(failed.attempts).toBe(1);
    expect(failed.error).toEqual({
      code: "PROVIDER.REJECTED",
      message: twilioMessage,
      retryable: false,
      providerCode: "21211",
    });
    expect(t.fake.creates()).toHaveLength(1);
  });
});

describe("routing with Twilio", () => {
  it("sends sms: to Twilio and whatsapp: to Baileys by default; provider overrides", async () => {
    const baileys = new MemoryMessagingProvider("baileys", ["whatsapp"], { default: true });
    t = await startTwilioGateway({}, [baileys]);
    expect((await accepted(t, { to: "sms:+15557654321", text: "a" })).provider).toBe("twilio");
    expect((await accepted(t, { to: "whatsapp:+15557654321", text: "b" })).provider).toBe("baileys");
    const overridden = await accepted(t, { to: "whatsapp:+15557654322", text: "c", provider: "twilio" });
    expect(overridden.provider).toBe("twilio");
    await settled(t, overridden.id);
    const form = t.fake.creates().find((r) => r.form.Body === "c")?.form;
    expect(form).toMatchObject({ To: "whatsapp:+15557654322", From: `whatsapp:${TWILIO_FROM}` });
  });

  it("sends whatsapp: through Twilio when WHATSAPP_PROVIDER=twilio, as whatsapp:+E164 both ways", async () => {
    const baileys = new MemoryMessagingProvider("baileys", ["whatsapp"], { default: true });
    t = await startTwilioGateway({ WHATSAPP_PROVIDER: "twilio" }, [baileys]);
    const message = await accepted(t, { to: "whatsapp:+15557654321", text: "hi on whatsapp" });
    expect(message.provider).toBe("twilio");
    expect((await settled(t, message.id)).status).toBe("sent");
    expect(t.fake.creates()[0]?.form).toMatchObject({ To: "whatsapp:+15557654321", From: `whatsapp:${TWILIO_FROM}` });
    expect(baileys.sent).toHaveLength(0);
  });

  it("answers 400 PROVIDER.NOT_ENABLED for a provider this Twilio-only gateway does not run", async () => {
    t = await startTwilioGateway();
    for (const body of [
      { to: "whatsapp:+15557654321", text: "x" },
      { to: "sms:+15557654321", text: "x", provider: "baileys" },
    ]) {
      const res = await post(t, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe("PROVIDER.NOT_ENABLED");
    }
    const list = (await (await t.gw.call("GET", "/messages")).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(0);
    expect(t.fake.requests).toHaveLength(0);
  });
});
