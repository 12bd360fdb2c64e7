import twilio from "twilio";
import type { MessageListInstanceCreateOptions } from "twilio/lib/rest/api/v2010/account/message.js";
import type { Channel } from "../../../domain/address.ts";
import { ProviderError } from "../../../domain/errors.ts";
import { isHeld } from "../../../domain/media.ts";
import type { Message } from "../../../domain/message.ts";
import type { Logger } from "../../../domain/ports/logger.port.ts";
import type { MediaFetcher } from "../../../domain/ports/media-fetcher.port.ts";
import {
  TWILIO_PROVIDER,
  type MessagingProvider,
  type ProviderEventListener,
  type SendReceipt,
  type WebhookReceiver,
} from "../../../domain/ports/messaging-provider.port.ts";
import type { PublicMediaLinks } from "../../../domain/ports/public-media-links.port.ts";
import { toTwilioAddress } from "./twilio-addresses.ts";
import { toProviderError } from "./twilio-errors.ts";
import { BaseUrlRequestClient } from "./twilio-http-client.ts";
import { TwilioMediaDownloads } from "./twilio-media.ts";
import { TWILIO_SESSION, TwilioWebhookReceiver } from "./twilio-webhooks.ts";

export interface TwilioProviderOptions {
  readonly accountSid: string;
  readonly authToken: string;
  /** Sender number (`+E164`); on the WhatsApp channel it is sent as `whatsapp:+E164`. */
  readonly from?: string | undefined;
  /** Messaging Service that picks the sender; preferred over `from` when both are set. */
  readonly messagingServiceSid?: string | undefined;
  /** Where Twilio posts status callbacks: PUBLIC_BASE_URL + /webhooks/twilio/status. */
  readonly statusCallbackUrl?: string | undefined;
  /** Another host for Twilio's REST API (a local fake in tests, an egress proxy); default Twilio's own. */
  readonly apiBaseUrl?: string | undefined;
  /** Links Twilio fetches outbound attachments by (it takes media as URLs only). */
  readonly publicMediaLinks: PublicMediaLinks;
  /** Downloads the files of incoming messages; see TwilioMediaDownloads for whom it sends the credentials. */
  readonly mediaFetcher: MediaFetcher;
  /** The adapter never hands it a secret. */
  readonly logger: Logger;
  readonly now?: () => Date;
}

/**
 * SMS and WhatsApp through Twilio's Messages API, with the official `twilio`
 * library. Twilio has no logins to manage: one session, `default`, always
 * ready while the provider runs. Statuses and inbound messages arrive as
 * signed HTTP callbacks, which `webhooks` verifies and parses; the provider
 * itself never emits events.
 *
 * Twilio's Messages API takes no idempotency key, so a send whose answer was
 * lost (timeout, reset after Twilio accepted it) is retried and may reach the
 * recipient twice. That is the at-least-once side of the trade; the other
 * side (treating it as failed) would lose messages.
 */
export class TwilioProvider implements MessagingProvider {
  readonly id = TWILIO_PROVIDER;
  readonly channels: readonly Channel[] = ["sms", "whatsapp"];
  readonly webhooks: WebhookReceiver;
  private readonly client: twilio.Twilio;
  private running = true;

  constructor(private readonly options: TwilioProviderOptions) {
    if (!options.from && !options.messagingServiceSid) {
      throw new Error("the Twilio provider needs a sender: from or messagingServiceSid");
    }
    this.client = twilio(options.accountSid, options.authToken, {
      ...(options.apiBaseUrl ? { httpClient: new BaseUrlRequestClient(options.apiBaseUrl) } : {}),
    });
    this.webhooks = new TwilioWebhookReceiver({
      authToken: options.authToken,
      media: new TwilioMediaDownloads({
        fetcher: options.mediaFetcher,
        accountSid: options.accountSid,
        authToken: options.authToken,
        apiBaseUrl: options.apiBaseUrl,
      }),
      ...(options.now ? { now: options.now } : {}),
      onUnknownStatus: (status, messageSid) =>
        options.logger.warn(
          { provider: TWILIO_PROVIDER, status, providerMessageId: messageSid },
          "twilio: unknown MessageStatus ignored",
        ),
    });
  }

  async start(): Promise<void> {
    this.running = true;
    this.options.logger.info(
      {
        provider: TWILIO_PROVIDER,
        sender: this.options.messagingServiceSid ? "messagingService" : "from",
        statusCallback: this.options.statusCallbackUrl ?? null,
        apiBaseUrl: this.options.apiBaseUrl ?? "https://api.twilio.com",
      },
      "twilio: provider started",
    );
  }

  async stop(): Promise<void> {
    this.running = false;
  }

  hasSession(session: string): boolean {
    return session === TWILIO_SESSION;
  }

  isReady(session: string): boolean {
    return this.running && session === TWILIO_SESSION;
  }

  async send(message: Message): Promise<SendReceipt> {
    if (!this.running) throw new ProviderError(TWILIO_PROVIDER, "the Twilio provider is stopped", true);
    const params = this.createParams(message);
    try {
      const created = await this.client.messages.create(params);
      this.options.logger.info(
        {
          provider: TWILIO_PROVIDER,
          messageId: message.id,
          providerMessageId: created.sid,
          twilioStatus: created.status,
        },
        "twilio: message accepted",
      );
      // Twilio answers `queued` or `accepted`: for us the hand-over is done, so `sent`.
      return { providerMessageId: created.sid, status: "sent" };
    } catch (error) {
      const failure = toProviderError(error);
      this.options.logger.warn(
        {
          provider: TWILIO_PROVIDER,
          messageId: message.id,
          retryable: failure.retryable,
          providerCode: failure.providerCode ?? null,
          reason: failure.message,
        },
        "twilio: send failed",
      );
      throw failure;
    }
  }

  subscribe(_listener: ProviderEventListener): () => void {
    // Everything Twilio reports comes through `webhooks`, recorded by the app.
    return () => undefined;
  }

  private createParams(message: Message): MessageListInstanceCreateOptions {
    const { from, messagingServiceSid, statusCallbackUrl } = this.options;
    const sender = message.from
      ? { from: toTwilioAddress(message.from, message.channel) }
      : messagingServiceSid
        ? { messagingServiceSid }
        : { from: toTwilioAddress(from!, message.channel) };
    const mediaUrl = this.mediaUrls(message);
    // On WhatsApp the body is shown as the attachment's caption; an SMS/MMS has none.
    const body = message.text || message.media[0]?.caption || "";
    return {
      to: toTwilioAddress(message.to, message.channel),
      ...sender,
      ...(body ? { body } : {}),
      ...(mediaUrl.length > 0 ? { mediaUrl } : {}),
      ...(statusCallbackUrl ? { statusCallback: statusCallbackUrl } : {}),
    };
  }

  /**
   * A signed public link per attachment, which Twilio fetches while it
   * sends. The dispatcher holds every file before it calls `send`; one that
   * is not held cannot be linked, and trying again would not change that.
   */
  private mediaUrls(message: Message): string[] {
    return message.media.map((media, index) => {
      if (!isHeld(media)) {
        throw new ProviderError(
          TWILIO_PROVIDER,
          `attachment ${index + 1} is not held by the gateway, so Twilio cannot be given a link to it`,
          false,
          "media-not-ready",
        );
      }
      return this.options.publicMediaLinks.link(media.id);
    });
  }
}
