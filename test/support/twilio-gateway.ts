import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { createProviders, twilioMediaFetcher } from "../../src/app/composition/providers.ts";
import { loadConfig } from "../../src/app/config/load-config.ts";
import { createLogger } from "../../src/app/logger.ts";
import { mediaLinkSecret, SignedMediaLinks } from "../../src/app/media/signed-media-links.ts";
import { systemClock } from "../../src/domain/ports/clock.port.ts";
import type { MessagingProvider } from "../../src/domain/ports/messaging-provider.port.ts";
import { FakeTwilioApi } from "../fakes/twilio/fake-twilio-api.ts";
import { signedWebhook, type SignOptions } from "../fakes/twilio/signed-webhooks.ts";
import { startInProcessGateway, type InProcessGateway } from "./in-process-gateway.ts";
import { LoopbackOnlyMediaFetcher } from "./loopback-media-fetcher.ts";
import { tempDir } from "./temp-dir.ts";

export const TWILIO_FROM = "+15550001111";
/** As behind a TLS-terminating proxy that strips a path prefix: not the URL the app sees. */
export const PUBLIC_BASE_URL = "https://gateway.example.test/msg";

export interface TwilioGateway {
  readonly gw: InProcessGateway;
  readonly fake: FakeTwilioApi;
  /** PUBLIC_BASE_URL as configured: the constant above, or the served URL with `listen`. */
  readonly publicBaseUrl: string;
  /** Posts a webhook signed like Twilio over the public base URL + path + query (or `signUrl`). */
  webhook(
    kind: "inbound" | "status",
    params: Record<string, string>,
    options?: SignOptions & { query?: string; signUrl?: string },
  ): Promise<Response>;
  close(): Promise<void>;
}

export interface TwilioGatewayOptions {
  /**
   * Serves the app on a loopback port, which becomes PUBLIC_BASE_URL: the
   * fake can then fetch the gateway's signed media links and post its
   * callbacks itself, as Twilio does.
   */
  readonly listen?: boolean;
}

/**
 * The real gateway in process with the real Twilio provider, built by
 * createProviders from the configuration (the `twilio` library doing real
 * HTTP against the fake REST API), plus any `others` (in-memory Baileys).
 * The provider signs media links with the secret the gateway's public media
 * route checks (the key file both find in DATA_DIR), and downloads inbound
 * media from this machine only.
 */
export async function startTwilioGateway(
  env: Record<string, string> = {},
  others: MessagingProvider[] = [],
  options: TwilioGatewayOptions = {},
): Promise<TwilioGateway> {
  const fake = new FakeTwilioApi();
  await fake.start();
  const dir = await tempDir();
  const served = options.listen ? await serveLater() : undefined;
  const fullEnv: Record<string, string> = {
    GATEWAY_PROVIDERS: others.length > 0 ? "baileys,twilio" : "twilio",
    TWILIO_ACCOUNT_SID: fake.accountSid,
    TWILIO_AUTH_TOKEN: fake.authToken,
    TWILIO_FROM,
    PUBLIC_BASE_URL: served?.url ?? PUBLIC_BASE_URL,
    TWILIO_API_BASE_URL: fake.url,
    DATA_DIR: dir.path,
    ...env,
  };
  const publicBaseUrl = fullEnv.PUBLIC_BASE_URL!;
  const twilioConfig = loadConfig({ ...fullEnv, GATEWAY_PROVIDERS: "twilio", WHATSAPP_PROVIDER: "twilio" });
  const links = new SignedMediaLinks(
    publicBaseUrl,
    mediaLinkSecret(twilioConfig.MEDIA_LINK_SECRET, twilioConfig.DATA_DIR),
    systemClock,
  );
  const twilio = await createProviders(twilioConfig, createLogger("silent"), undefined, {
    publicMediaLinks: links,
    twilioMediaFetcher: new LoopbackOnlyMediaFetcher(twilioMediaFetcher(twilioConfig)),
  });
  const gw = await startInProcessGateway(fullEnv, [...others, ...twilio], dir.path);
  served?.route((request) => gw.gateway.app.fetch(request));
  return {
    gw,
    fake,
    publicBaseUrl,
    webhook(kind, params, signOptions = {}) {
      const query = signOptions.query ?? "";
      const url = signOptions.signUrl ?? `${publicBaseUrl}/webhooks/twilio/${kind}${query}`;
      const { body, headers } = signedWebhook(fake.authToken, url, params, signOptions);
      return gw.call("POST", `/webhooks/twilio/${kind}${query}`, { raw: body, headers, auth: false });
    },
    async close() {
      await served?.close();
      await gw.close();
      await fake.close();
      await dir.remove();
    },
  };
}

/** A server on a loopback port whose handler is set once the app exists (its URL goes into the app's configuration). */
async function serveLater(): Promise<{
  url: string;
  route(fetch: (request: Request) => Response | Promise<Response>): void;
  close(): Promise<void>;
}> {
  let handler: ((request: Request) => Response | Promise<Response>) | undefined;
  let server!: ServerType;
  await new Promise<void>((resolve) => {
    server = serve(
      {
        fetch: (request: Request) => (handler ? handler(request) : new Response("starting", { status: 503 })),
        hostname: "127.0.0.1",
        port: 0,
      },
      () => resolve(),
    );
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    route(fetch) {
      handler = fetch;
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        if ("closeAllConnections" in server) server.closeAllConnections();
      }),
  };
}
