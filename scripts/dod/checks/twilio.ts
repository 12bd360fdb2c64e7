import { randomBytes } from "node:crypto";
import twilioLib from "twilio";
import { until } from "../gateway-client.ts";
import { freePort } from "../processes.ts";
import { CheckFailed, type Check } from "../types.ts";

const FROM = "+15550001111";
const CUSTOMER = "+15557654321";

/**
 * The Twilio service (the seed's second service): a gateway process with
 * GATEWAY_PROVIDERS=twilio against the fake Twilio REST API sends through
 * it, applies a signed status callback, accepts a signed inbound message and
 * rejects a forged one with 403, recording nothing.
 */
export const twilio: Check = async (ctx) => {
  const parts = ctx.parts!;
  const fake = await parts.twilioFake();
  // Twilio calls the gateway back at PUBLIC_BASE_URL: here the process itself, so its port is chosen first.
  const port = await freePort();
  const publicBaseUrl = `http://127.0.0.1:${port}`;
  const gw = await parts.gateway("gateway (twilio service)", {
    PORT: String(port),
    GATEWAY_PROVIDERS: "twilio",
    TWILIO_ACCOUNT_SID: fake.accountSid,
    TWILIO_AUTH_TOKEN: fake.authToken,
    TWILIO_FROM: FROM,
    TWILIO_API_BASE_URL: fake.url,
    PUBLIC_BASE_URL: publicBaseUrl,
    DEFAULT_CHANNEL: "sms",
  });
  const run = randomBytes(3).toString("hex");

  // 1. Send: accepted by the gateway, created at the fake through the real twilio library.
  const sendStarted = performance.now();
  const text = `dod-twilio ${run}`;
  const posted = await gw.client.request("POST", "/messages", { to: `sms:${CUSTOMER}`, text });
  if (posted.status !== 202)
    throw new CheckFailed(`POST /messages answered ${posted.status}: ${(await posted.text()).slice(0, 200)}`);
  const { id } = (await posted.json()) as { id: string };
  const sent = await until(
    async () => {
      const m = await gw.client.message(id);
      if (m.status === "failed") throw new CheckFailed(`message ${id} failed at the gateway`);
      return m.status === "sent" && m.providerMessageId ? m : undefined;
    },
    `message ${id} to be sent through the fake Twilio API`,
    30_000,
  ).catch((error: unknown) => {
    throw error instanceof CheckFailed
      ? error
      : new CheckFailed(error instanceof Error ? error.message : String(error));
  });
  const sendMs = performance.now() - sendStarted;
  const atFake = (
    await fake.call<{ sid: string; body: string | null; statusCallback: string | null }[]>("GET", "/control/messages")
  ).find((m) => m.sid === sent.providerMessageId);
  if (atFake?.body !== text)
    throw new CheckFailed(`the fake Twilio API has no message ${sent.providerMessageId} with our text`);
  if (atFake.statusCallback !== `${publicBaseUrl}/webhooks/twilio/status`)
    throw new CheckFailed(`unexpected StatusCallback ${atFake.statusCallback}`);

  // 2. A status callback signed by "Twilio" (the fake, with the library's signature) moves the status.
  const status = await fake.call<{ status: number }>("POST", "/control/status", {
    sid: sent.providerMessageId,
    status: "delivered",
  });
  if (status.status < 200 || status.status >= 300)
    throw new CheckFailed(`signed status callback answered ${status.status}`);
  const delivered = await gw.client.message(id);
  if (delivered.status !== "delivered")
    throw new CheckFailed(`after a signed "delivered" callback the message is ${delivered.status}`);

  // 3. A signed inbound message is recorded.
  const inboundUrl = `${publicBaseUrl}/webhooks/twilio/inbound`;
  const inboundText = `dod-twilio reply ${run}`;
  const inbound = await fake.call<{ status: number }>("POST", "/control/inbound", {
    url: inboundUrl,
    from: CUSTOMER,
    to: FROM,
    body: inboundText,
  });
  if (inbound.status < 200 || inbound.status >= 300) throw new CheckFailed(`signed inbound answered ${inbound.status}`);
  const inboundTexts = async () =>
    (await gw.client.json<{ items: { text: string }[] }>("GET", "/messages?direction=inbound&limit=100")).items.map(
      (m) => m.text,
    );
  if (!(await inboundTexts()).includes(inboundText))
    throw new CheckFailed("the signed inbound message is not in GET /messages?direction=inbound");

  // 4. A forged one (signed with another token) is rejected and leaves no trace.
  const forgedText = `dod-twilio forged ${run}`;
  const params = {
    MessageSid: `SM${randomBytes(16).toString("hex")}`,
    AccountSid: fake.accountSid,
    From: CUSTOMER,
    To: FROM,
    Body: forgedText,
    NumMedia: "0",
  };
  const forged = await fetch(inboundUrl, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": twilioLib.getExpectedTwilioSignature(randomBytes(16).toString("hex"), inboundUrl, params),
    },
    body: new URLSearchParams(params).toString(),
  });
  await forged.body?.cancel();
  if (forged.status !== 403) throw new CheckFailed(`a forged inbound webhook answered ${forged.status}, expected 403`);
  if ((await inboundTexts()).includes(forgedText)) throw new CheckFailed("the forged inbound message was recorded");

  return {
    pass: true,
    figures: {
      sendMs: Math.round(sendMs),
      statusCallback: status.status,
      inbound: inbound.status,
      forged: forged.status,
    },
    detail:
      "GATEWAY_PROVIDERS=twilio on the fake Twilio REST API: sent (real twilio library), signed status -> delivered, signed inbound listed, forged -> 403 and not recorded",
  };
};
