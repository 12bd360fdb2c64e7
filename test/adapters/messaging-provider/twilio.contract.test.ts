import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { HttpMediaFetcher } from "../../../src/adapters/media-fetch/http/http.media-fetcher.ts";
import { TwilioProvider } from "../../../src/adapters/messaging/twilio/twilio.provider.ts";
import { SignedMediaLinks } from "../../../src/app/media/signed-media-links.ts";
import { systemClock } from "../../../src/domain/ports/clock.port.ts";
import type { ProviderEventListener, WebhookReceiver } from "../../../src/domain/ports/messaging-provider.port.ts";
import { runMessagingProviderContract } from "../../contracts/messaging-provider.contract.ts";
import { FakeTwilioApi, type FakeMessage } from "../../fakes/twilio/fake-twilio-api.ts";
import { LoopbackOnlyMediaFetcher } from "../../support/loopback-media-fetcher.ts";

const FROM = "+15550002000";
const CALLBACKS_PATH = "/webhooks/twilio";

/** Our `sms:+E164` as Twilio writes an SMS number: bare. */
const twilioNumber = (address: string): string => address.replace(/^sms:/, "");

/**
 * Plays the app's Twilio webhook route: takes the fake's signed callbacks,
 * hands them to the provider's WebhookReceiver with the public URL they were
 * signed for, and passes on the events it made of them. A refused callback
 * answers 403/400, which the driver turns into a failure.
 */
async function startCallbackRoute(
  receiver: () => WebhookReceiver,
  listeners: Set<ProviderEventListener>,
): Promise<{ server: Server; baseUrl: string }> {
  let baseUrl = "";
  const server = createServer((req, res) => {
    void (async () => {
      const kind = new URL(req.url ?? "/", "http://callbacks").pathname.slice(CALLBACKS_PATH.length + 1);
      if (req.method !== "POST" || (kind !== "inbound" && kind !== "status")) {
        res.writeHead(404).end();
        return;
      }
      const body = await readBody(req);
      const result = await receiver().receive({
        kind,
        url: `${baseUrl}${req.url ?? ""}`,
        header: (name) => {
          const value = req.headers[name.toLowerCase()];
          return typeof value === "string" ? value : undefined;
        },
        body: async () => new Uint8Array(body),
      });
      if (!result.ok) {
        res.writeHead(result.reason === "signature" ? 403 : 400).end(result.detail);
        return;
      }
      for (const event of result.events) for (const listener of listeners) listener(event);
      const { status, contentType, body: answer } = result.answer;
      res.writeHead(status, contentType ? { "content-type": contentType } : {}).end(answer);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, baseUrl };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** One call to the fake's control API (test/fakes/twilio/control-http.ts). */
async function control<T>(fake: FakeTwilioApi, method: "GET" | "POST", path: string, body?: object): Promise<T> {
  const res = await fetch(`${fake.url}/control/${path}`, {
    method,
    ...(body ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}),
  });
  const answer = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(`fake Twilio ${method} /control/${path}: ${res.status} ${answer.error ?? ""}`);
  return answer;
}

/** A callback the fake posted must have been taken: the receiver refusing a genuine one is a failure. */
function expectTaken(what: string, answer: { status: number }): void {
  if (answer.status < 200 || answer.status >= 300)
    throw new Error(`the provider's webhook receiver answered ${answer.status} to a signed ${what} callback`);
}

runMessagingProviderContract(
  "twilio (fake Twilio REST API, signed callbacks)",
  {
    idempotentSends: {
      whyNot: "Twilio's Messages API takes no idempotency key; TwilioProvider documents at-least-once delivery",
    },
    logins: false,
  },
  async () => {
    const fake = new FakeTwilioApi();
    await fake.start();
    const listeners = new Set<ProviderEventListener>();
    // Called only for callbacks, which come after the provider exists.
    const callbacks = await startCallbackRoute(() => provider.webhooks, listeners);
    const provider = new TwilioProvider({
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      from: FROM,
      apiBaseUrl: fake.url,
      statusCallbackUrl: `${callbacks.baseUrl}${CALLBACKS_PATH}/status`,
      // The contract sends and receives text only.
      publicMediaLinks: new SignedMediaLinks(callbacks.baseUrl, "contract-test-media-link-secret-0123", systemClock),
      mediaFetcher: new LoopbackOnlyMediaFetcher(new HttpMediaFetcher()),
      logger: pino({ level: "silent" }),
    });
    await provider.start();
    return {
      provider,
      session: "default",
      channel: "sms",
      account: `sms:${FROM}`,
      recipient: "sms:+15550002001",
      contact: "sms:+15550002002",
      onCallbackEvents(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      driver: {
        async untilReady() {},
        async receivedBy(to) {
          const messages = await control<FakeMessage[]>(fake, "GET", "messages");
          return messages
            .filter((m) => m.to === twilioNumber(to))
            .map((m) => ({ providerMessageId: m.sid, text: m.body }));
        },
        async reportStatus({ receipt }, status) {
          expectTaken(
            status,
            await control<{ status: number }>(fake, "POST", "status", { sid: receipt.providerMessageId, status }),
          );
        },
        async deliverInbound(from, text) {
          const answer = await control<{ status: number }>(fake, "POST", "inbound", {
            url: `${callbacks.baseUrl}${CALLBACKS_PATH}/inbound`,
            from: twilioNumber(from),
            to: FROM,
            body: text,
          });
          expectTaken("inbound", answer);
        },
        async failNextSend(kind) {
          await control(fake, "POST", "fail", kind === "retryable" ? { status: 503 } : { status: 400, code: 21211 });
        },
      },
      async dispose() {
        await provider.stop();
        callbacks.server.closeAllConnections();
        await new Promise<void>((resolve) => callbacks.server.close(() => resolve()));
        await fake.close();
      },
    };
  },
);
