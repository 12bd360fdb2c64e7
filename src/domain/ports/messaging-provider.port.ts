import { injectionToken, type InjectionToken } from "../injection-token.ts";
import type { Channel } from "../address.ts";
import type { MessageError } from "../errors.ts";
import type { GroupUpdate } from "../group.ts";
import type { MediaKind } from "../media.ts";
import type { GroupControl } from "./group-control.port.ts";
import type { Message, NewInboundMessage } from "../message.ts";
import type { MediaSource } from "./media-store.port.ts";
import type { ProviderStatus } from "../message-status.ts";
import type { SessionInfo, SessionState } from "../session.ts";

/** WhatsApp Web through the Baileys library: the id stored on its messages and named in GATEWAY_PROVIDERS. */
export const BAILEYS_PROVIDER = "baileys";
/** SMS and WhatsApp through Twilio's API: the id stored on its messages and named in GATEWAY_PROVIDERS. */
export const TWILIO_PROVIDER = "twilio";
/** Every provider this build can run. The ids are stored values: they never change. */
export const ProviderIds = [BAILEYS_PROVIDER, TWILIO_PROVIDER] as const;
export type ProviderId = (typeof ProviderIds)[number];

/** What a provider said when it took a message. */
export interface SendReceipt {
  readonly providerMessageId: string;
  /** Status already known when the send returned, `sent` unless the provider said more. */
  readonly status?: ProviderStatus;
}

/** What a provider reports about a send before it returns. */
export interface SendProgress {
  /** The message is on the wire: a message sent after it to the same recipient can no longer overtake it. */
  written(): void;
}

/**
 * A file that came with an inbound message, still at the provider: the
 * gateway opens it and keeps it in its MediaStore before the message is
 * recorded, so both providers' inbound media look the same to the user.
 */
export interface InboundMedia {
  readonly kind: MediaKind;
  /** The type the provider announced; a hint only, the stored type is read from the bytes. */
  readonly mimeType?: string;
  readonly filename?: string;
  readonly caption?: string;
  /**
   * Opens the file's bytes (decrypted, for WhatsApp). Called again after a
   * failure, with `attempt` counting from 1: a provider may do more on a
   * later attempt (WhatsApp asks the sender's phone to upload expired media
   * again). Rejects with a `ProviderError` (retryable or not).
   */
  open(attempt: number): Promise<MediaSource>;
}

/** An inbound message as a provider reports it: its media not yet held by the gateway. */
export type ReportedInboundMessage = Omit<NewInboundMessage, "id" | "media"> & {
  readonly media: readonly InboundMedia[];
};

export type ProviderEvent =
  | { readonly type: "inbound"; readonly message: ReportedInboundMessage }
  | {
      readonly type: "status";
      readonly providerMessageId: string;
      readonly status: ProviderStatus;
      readonly error?: MessageError;
    }
  | { readonly type: "session"; readonly session: string; readonly state: SessionState; readonly ready: boolean }
  /** A group changed: members joined, left, were promoted or demoted, or its subject or description changed. */
  | { readonly type: "group"; readonly session: string; readonly update: GroupUpdate };

export type ProviderEventListener = (event: ProviderEvent) => void;

/**
 * One messaging technology (Baileys, Twilio). Narrow on purpose: a provider
 * that has logins to manage also offers `sessions`; one that does not simply
 * leaves it out.
 */
export interface MessagingProvider {
  /** Stable id used in routes and stored on messages: one of `ProviderIds` (test doubles may use others). */
  readonly id: string;
  /** Channels this provider can carry. */
  readonly channels: readonly Channel[];
  /** Present only on providers with logins (WhatsApp accounts). */
  readonly sessions?: SessionControl;
  /** Present only on providers with groups (WhatsApp). */
  readonly groups?: GroupControl;
  /** Present only on providers with read marks, typing and a directory of who is on them (WhatsApp). */
  readonly conversations?: ConversationControl;
  /** Present only on providers that report through signed HTTP callbacks (Twilio). */
  readonly webhooks?: WebhookReceiver;
  /**
   * How many messages to one recipient may be in flight at once (absent: 1).
   * Above 1 the provider must keep them in order: the dispatcher calls `send`
   * for a recipient's next message only after the previous one reported
   * `written`, and the provider puts messages on the wire in the order it
   * was called, reporting `written` when each is there.
   */
  readonly sendWindow?: number;

  /** Starts the provider (for Baileys: every stored session). Resolves once started, not once connected. */
  start(): Promise<void>;

  /** Stops sending and closes connections without logging anything out. */
  stop(): Promise<void>;

  /** Whether the session exists, connected or not: messages for it may be accepted. */
  hasSession(session: string): boolean;

  /** Whether the session can send right now. */
  isReady(session: string): boolean;

  /**
   * Sends one message. Sending the same message id twice must not produce two
   * different messages at the recipient wherever the provider's protocol
   * allows it (WhatsApp: the provider's id is derived from ours). A provider
   * whose API takes no idempotency key (Twilio) cannot promise it and says so
   * in its own documentation: a resend after a lost answer may reach the
   * recipient twice (at least once). Throws `ProviderError` on failure.
   * `progress.written` is called once the message is on the wire, before the
   * provider confirmed it (a provider without `sendWindow` may skip it).
   */
  send(message: Message, progress?: SendProgress): Promise<SendReceipt>;

  /**
   * Subscribes to inbound messages, status reports and session changes;
   * returns the unsubscribe. A provider that reports through signed HTTP
   * callbacks (`webhooks`) returns those events from `webhooks.receive`
   * instead, so its listeners may hear nothing.
   */
  subscribe(listener: ProviderEventListener): () => void;
}

/** What a chat shows while someone is about to send: typing, recording a voice note, or nothing any more. */
export const PresenceStates = ["composing", "recording", "paused"] as const;
export type PresenceState = (typeof PresenceStates)[number];

/** Whether an address has an account on the provider, as the provider answers it. */
export interface ContactLookup {
  /** In phone-number form (`whatsapp:+E164`). */
  readonly address: string;
  readonly onWhatsApp: boolean;
  /** Its LID when the provider told it. */
  readonly lid: string | null;
}

/**
 * The parts of a chat that are not messages (WhatsApp). Each throws
 * `ProviderError` (retryable when the session is not connected) or
 * `DomainError` SESSION.NOT_FOUND.
 */
export interface ConversationControl {
  /** Marks an inbound message read: the sender sees blue ticks. */
  markRead(message: Message): Promise<void>;
  /** Shows `state` to `to` (an address) in the chat with the session's account. */
  presence(session: string, to: string, state: PresenceState): Promise<void>;
  /** Asks whether `address` is on WhatsApp, through `session`. */
  lookup(session: string, address: string): Promise<ContactLookup>;
}

/** Login management of a provider with sessions. */
export interface SessionControl {
  list(): SessionInfo[];
  get(id: string): SessionInfo | undefined;
  /** Creates and starts a session; fails with SESSION.ALREADY_EXISTS when the id is taken. */
  create(id: string): Promise<SessionInfo>;
  /** Logs the session out, wipes its stored login and forgets it. */
  remove(id: string): Promise<void>;
  /** Starts a session that sits idle (stopped, logged out, needs attention); a session without a login shows a new QR. */
  connect(id: string): Promise<SessionInfo>;
  /** The pending QR, or undefined when none is pending. */
  qr(id: string): { readonly qr: string; readonly expiresAt: string } | undefined;
  /** Asks for a pairing code for the given phone number (E.164 digits). */
  requestPairingCode(id: string, phone: string): Promise<string>;
}

/** Every provider enabled in this process. */
export const MessagingProviders: InjectionToken<readonly MessagingProvider[]> = injectionToken("MessagingProviders");

/**
 * A provider callback as the HTTP layer received it, in neutral terms: the
 * receiver reads what it needs (headers, body) in the order it checks them.
 */
export interface WebhookRequest {
  /** Which callback, one of the receiver's `kinds` (the last segment of `/webhooks/{provider}/{kind}`). */
  readonly kind: string;
  /** The public URL the provider called (what it signs), query included as sent. */
  readonly url: string;
  /** A request header by name (any case), or undefined. */
  header(name: string): string | undefined;
  /**
   * The body's bytes, at most the gateway's body limit: above it this rejects
   * with a `DomainError` (REQUEST.TOO_LARGE), which the receiver lets through.
   */
  body(): Promise<Uint8Array>;
}

/** What to answer the provider once what it reported is recorded. */
export interface WebhookAnswer {
  readonly status: number;
  /** The answer's content type, when it has a body. */
  readonly contentType?: string;
  readonly body?: string;
}

/** Why a callback was refused: a bad signature (403), a body that is not the provider's format or misses fields. */
export type WebhookRejection = "signature" | "unsupported_media_type" | "malformed";

export type WebhookResult =
  | { readonly ok: true; readonly events: readonly ProviderEvent[]; readonly answer: WebhookAnswer }
  | { readonly ok: false; readonly reason: WebhookRejection; readonly detail: string };

/**
 * Verifies and parses a provider's callbacks, and says what to answer.
 * Parsing lives with the provider; recording what it says is the app's job.
 */
export interface WebhookReceiver {
  /** The callbacks this provider makes, each served at `POST /webhooks/{provider id}/{kind}`. */
  readonly kinds: readonly string[];
  /**
   * Checks the request's format and signature first; only a genuine request
   * is parsed into events. The answer is sent only once the events are
   * recorded (anything else makes the provider retry).
   */
  receive(request: WebhookRequest): Promise<WebhookResult>;
}
