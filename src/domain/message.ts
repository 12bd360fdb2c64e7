import type { Channel } from "./address.ts";
import type { Conversation } from "./conversation.ts";
import type { MessageError } from "./errors.ts";
import type { MessageMedia } from "./media.ts";
import type { MessageStatus } from "./message-status.ts";

export const Directions = ["outbound", "inbound"] as const;
export type Direction = (typeof Directions)[number];

/** Which provider and which of its sessions (WhatsApp account) carries a message. */
export interface Route {
  readonly provider: string;
  readonly session: string;
}

export interface StatusChange {
  readonly status: MessageStatus;
  readonly at: string;
}

/**
 * A message as stored and as shown by the API. Times are ISO-8601 strings.
 * Its conversation facts (kind, reply, reaction, edits, LID...) are flat on it.
 */
export interface Message extends Conversation {
  readonly id: string;
  readonly direction: Direction;
  readonly status: MessageStatus;
  readonly channel: Channel;
  readonly provider: string;
  readonly session: string;
  /** Addresses in `channel:+E164` notation. */
  readonly to: string;
  readonly from: string | null;
  /** The text, or with media the caption of the message; may be empty when media is given. */
  readonly text: string;
  /** Attachments (WhatsApp: at most one; Twilio: up to 10). */
  readonly media: readonly MessageMedia[];
  readonly metadata: Readonly<Record<string, unknown>> | null;
  readonly providerMessageId: string | null;
  readonly attempts: number;
  readonly error: MessageError | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly history: readonly StatusChange[];
}

/** What the send use case asks the store to enqueue. */
export interface NewOutboundMessage extends Route {
  readonly id: string;
  readonly channel: Channel;
  readonly to: string;
  readonly from: string | null;
  /** The text, or with media the caption of the message; may be empty when media is given. */
  readonly text: string;
  /** Attachments (WhatsApp: at most one; Twilio: up to 10). */
  readonly media: readonly MessageMedia[];
  readonly metadata: Readonly<Record<string, unknown>> | null;
  /** Kind, reply, location, contacts, reaction, edit or delete; absent: plain text or media. */
  readonly conversation?: Conversation;
  /** Client's Idempotency-Key, if any, and a fingerprint of the request it came with. */
  readonly idempotency: { readonly key: string; readonly fingerprint: string } | null;
  readonly at: Date;
}

/** An inbound message as a provider reports it. */
export interface NewInboundMessage extends Route {
  readonly id: string;
  readonly channel: Channel;
  readonly from: string;
  readonly to: string | null;
  /** The text, or with media the caption of the message; may be empty when media is given. */
  readonly text: string;
  /** Attachments (WhatsApp: at most one; Twilio: up to 10). */
  readonly media: readonly MessageMedia[];
  /** Kind, reply, location, contacts, reaction, LID; absent: plain text or media. */
  readonly conversation?: Conversation;
  /** The provider's id, which dedupes redeliveries of the same message. */
  readonly providerMessageId: string;
  readonly at: Date;
}
