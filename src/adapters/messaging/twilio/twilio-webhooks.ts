import twilio from "twilio";
import type { MessageError } from "../../../domain/errors.ts";
import type { ProviderStatus } from "../../../domain/message-status.ts";
import {
  TWILIO_PROVIDER,
  type InboundMedia,
  type ProviderEvent,
  type WebhookAnswer,
  type WebhookReceiver,
  type WebhookRequest,
  type WebhookResult,
} from "../../../domain/ports/messaging-provider.port.ts";
import { channelOfTwilioAddress, fromTwilioAddress } from "./twilio-addresses.ts";
import { readForm } from "./twilio-form.ts";
import type { TwilioMediaDownloads } from "./twilio-media.ts";

/** Twilio's session-less provider reports everything on this one session. */
export const TWILIO_SESSION = "default";

/** Twilio's callbacks: a message came in, a message's status changed. */
export const TWILIO_WEBHOOK_KINDS = ["inbound", "status"] as const;
type TwilioWebhookKind = (typeof TWILIO_WEBHOOK_KINDS)[number];

const SIGNATURE_HEADER = "x-twilio-signature";

/**
 * What Twilio gets back once a callback is recorded: for an incoming message,
 * TwiML that asks for no reply (an empty body would be taken as one); for a
 * status report, nothing.
 */
const ANSWERS: Readonly<Record<TwilioWebhookKind, WebhookAnswer>> = {
  inbound: {
    status: 200,
    contentType: "text/xml; charset=utf-8",
    body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
  },
  status: { status: 204 },
};

// Twilio caps media per message at 10; a little headroom, but a bound, since
// NumMedia comes from the request.
const MAX_MEDIA = 20;

/**
 * Twilio's MessageStatus values and what each becomes. `queued`, `accepted`,
 * `scheduled` and `sending` become nothing: they all happen before or while
 * Twilio's API accepts the message, and our message is already `sent` once
 * that API call returned, so they could only restate it (the store would
 * ignore them anyway: statuses never move backwards). `canceled` (a scheduled
 * message withdrawn) will never be delivered, so it fails the message.
 */
const statusMap: Readonly<Record<string, ProviderStatus | null>> = {
  queued: null,
  accepted: null,
  scheduled: null,
  sending: null,
  sent: "sent",
  delivered: "delivered",
  read: "read",
  undelivered: "failed",
  failed: "failed",
  canceled: "failed",
};

export interface TwilioWebhookOptions {
  readonly authToken: string;
  /** Opens the files an incoming message names. */
  readonly media: TwilioMediaDownloads;
  readonly now?: () => Date;
  /** Told about statuses Twilio may add later, which are accepted and ignored. */
  readonly onUnknownStatus?: (status: string, messageSid: string) => void;
}

/**
 * Reads Twilio's callbacks (form bodies), verifies them with the library's
 * own `validateRequest` (HMAC-SHA1 of the URL Twilio called plus the sorted
 * form fields, keyed by the auth token), parses a genuine one into provider
 * events, and says what to answer Twilio.
 */
export class TwilioWebhookReceiver implements WebhookReceiver {
  readonly kinds: readonly string[] = TWILIO_WEBHOOK_KINDS;

  constructor(private readonly options: TwilioWebhookOptions) {}

  async receive(request: WebhookRequest): Promise<WebhookResult> {
    const kind = TWILIO_WEBHOOK_KINDS.find((k) => k === request.kind);
    if (!kind) return malformed(`Twilio makes no ${JSON.stringify(request.kind)} callback`);
    const form = await readForm(request);
    if (!form.ok) return form;
    const params = form.fields;
    const signature = request.header(SIGNATURE_HEADER);
    if (!signature) return { ok: false, reason: "signature", detail: "the X-Twilio-Signature header is missing" };
    if (!twilio.validateRequest(this.options.authToken, signature, request.url, { ...params })) {
      return { ok: false, reason: "signature", detail: "the X-Twilio-Signature does not match this URL and body" };
    }
    const events = kind === "inbound" ? this.inbound(params) : this.status(params);
    return Array.isArray(events) ? { ok: true, events, answer: ANSWERS[kind] } : events;
  }

  private inbound(params: Readonly<Record<string, string>>): ProviderEvent[] | Rejected {
    const sid = params.MessageSid || params.SmsSid;
    const from = params.From;
    if (!sid || !from) return malformed(missing({ MessageSid: sid, From: from }));
    const numMedia = params.NumMedia === undefined || params.NumMedia === "" ? 0 : Number(params.NumMedia);
    if (!Number.isInteger(numMedia) || numMedia < 0 || numMedia > MAX_MEDIA) {
      return malformed(`NumMedia must be an integer from 0 to ${MAX_MEDIA}`);
    }
    const media: InboundMedia[] = [];
    for (let i = 0; i < numMedia; i++) {
      const url = params[`MediaUrl${i}`];
      if (!url) return malformed(`MediaUrl${i} is missing while NumMedia is ${numMedia}`);
      media.push(this.options.media.file(url, params[`MediaContentType${i}`] || undefined));
    }
    const channel = channelOfTwilioAddress(from);
    const event: ProviderEvent = {
      type: "inbound",
      message: {
        provider: TWILIO_PROVIDER,
        session: TWILIO_SESSION,
        channel,
        from: fromTwilioAddress(from, channel),
        to: params.To ? fromTwilioAddress(params.To, channel) : null,
        text: params.Body ?? "",
        media,
        providerMessageId: sid,
        at: this.options.now?.() ?? new Date(),
      },
    };
    return [event];
  }

  private status(params: Readonly<Record<string, string>>): ProviderEvent[] | Rejected {
    const sid = params.MessageSid || params.SmsSid;
    const reported = params.MessageStatus || params.SmsStatus;
    if (!sid || !reported) return malformed(missing({ MessageSid: sid, MessageStatus: reported }));
    const key = reported.toLowerCase();
    const status = Object.hasOwn(statusMap, key) ? statusMap[key] : undefined;
    if (status === undefined) {
      this.options.onUnknownStatus?.(reported, sid);
      return [];
    }
    if (status === null) return [];
    const error = status === "failed" ? failure(reported, params) : undefined;
    return [{ type: "status", providerMessageId: sid, status, ...(error ? { error } : {}) }];
  }
}

function failure(reported: string, params: Readonly<Record<string, string>>): MessageError {
  const code = params.ErrorCode || undefined;
  const message =
    params.ErrorMessage ||
    (code ? `Twilio reported the message ${reported} (error ${code})` : `Twilio reported the message ${reported}`);
  return { code: "PROVIDER.REJECTED", message, retryable: false, ...(code ? { providerCode: code } : {}) };
}

function missing(fields: Record<string, string | undefined>): string {
  const names = Object.entries(fields)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  return `missing required field${names.length > 1 ? "s" : ""} ${names.join(", ")}`;
}

type Rejected = Extract<WebhookResult, { ok: false }>;

function malformed(detail: string): Rejected {
  return { ok: false, reason: "malformed", detail };
}
