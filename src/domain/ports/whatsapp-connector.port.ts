import { injectionToken, type InjectionToken } from "../injection-token.ts";
import type { Message } from "../message.ts";
import type { ProviderStatus } from "../message-status.ts";
import type { DisconnectReason } from "../session.ts";
import type { Conversation } from "../conversation.ts";
import type { GroupUpdate } from "../group.ts";
import type { ConnectionGroups } from "./group-control.port.ts";
import type {
  ContactLookup,
  InboundMedia,
  PresenceState,
  SendProgress,
  SendReceipt,
} from "./messaging-provider.port.ts";

/** How a WhatsApp connection ended. */
export interface ConnectionClosed {
  /** Why, in our words: what decisions are taken on. */
  readonly reason: DisconnectReason;
  /**
   * The protocol's own status code (428, 440, 515...), 0 when there is none.
   * Shown to operators as it is; never a reason for a decision.
   */
  readonly code: number;
  /** What the library said (`Stream Errored (conflict)`), for operators. */
  readonly message: string;
}

/** A message received by a linked account. */
export interface InboundWhatsAppMessage {
  /** The WhatsApp message id; a redelivery carries the same one. */
  readonly providerMessageId: string;
  /**
   * Sender and recipient as `whatsapp:+E164` (the recipient is the linked
   * account; empty when its number is not known).
   */
  readonly from: string;
  readonly to: string;
  /** The text, or the caption of a media message. */
  readonly text: string;
  /** The message's file, if it carries one (WhatsApp: at most one). */
  readonly media: readonly InboundMedia[];
  /**
   * Kind, reply, location, contacts, reaction, edit, delete and the sender's
   * LID. Message ids in it (`replyTo`, `reaction.messageId`...) are the
   * provider's: the app turns them into ours where it knows the message.
   * Absent: a plain text or media message.
   */
  readonly conversation?: Conversation;
  readonly at: Date;
}

/** What one connection reports; after `close`, nothing more. */
export type ConnectionEvent =
  | { readonly type: "qr"; readonly qr: string; readonly expiresAt: Date }
  /** `me`: the linked account's own id, as the protocol names it; shown to operators, never parsed. */
  | { readonly type: "open"; readonly me: string }
  | { readonly type: "close"; readonly closed: ConnectionClosed }
  | { readonly type: "inbound"; readonly message: InboundWhatsAppMessage }
  | { readonly type: "status"; readonly providerMessageId: string; readonly status: ProviderStatus }
  | { readonly type: "group"; readonly update: GroupUpdate };

/** One live socket of one session. */
export interface WhatsAppConnection {
  /**
   * Sends a message (text, or one held attachment with its caption: the
   * connection reads the file from the MediaStore it was given); resolves once the server acknowledged it, and
   * calls `progress.written` as soon as the stanza is on the socket. The
   * WhatsApp message id is derived from `message.id`, so sending the same
   * message twice can never produce two different messages. Throws
   * `ProviderError` (retryable when the connection is not usable).
   */
  send(message: Message, progress?: SendProgress): Promise<SendReceipt>;

  /** Group management through this connection's account. */
  readonly groups: ConnectionGroups;

  /**
   * Marks an inbound message read (blue ticks): `from` is its sender's
   * address, `group` the group's address when it was received in a group.
   */
  markRead(providerMessageId: string, from: string, group?: string | null): Promise<void>;

  /** Shows typing (`composing`), recording or nothing (`paused`) to `to`. */
  presence(to: string, state: PresenceState): Promise<void>;

  /** Whether `address` has WhatsApp, and its LID. */
  lookup(address: string): Promise<ContactLookup>;

  /** Asks for an 8-character pairing code for `phone` (E.164 digits without `+`), instead of a QR. */
  requestPairingCode(phone: string): Promise<string>;

  /** Unlinks the device from the account, then ends the connection. */
  logout(): Promise<void>;

  /**
   * Ends the connection without logging out. Listeners are removed first, so
   * a connection that is ended emits nothing more (not even `close`).
   */
  end(): void;
}

/**
 * Opens WhatsApp Web connections for sessions whose login lives in the
 * SessionStore. It knows the protocol; when and whether to reconnect is the
 * session supervisor's decision, never the connector's.
 */
export interface WhatsAppConnector {
  /**
   * Loads the session's login (or starts a new one, which will show QR codes)
   * and opens one socket. Events go to `listener` until the connection closes
   * or is ended. Rejects with `CorruptEntryError` when the stored login is
   * unreadable: a corrupt login is never replaced by a fresh one.
   */
  connect(session: string, listener: (event: ConnectionEvent) => void): Promise<WhatsAppConnection>;

  /**
   * Waits until every store write any connection started has landed (login
   * updates can outlive their socket). Called at shutdown, after the
   * connections were ended, so no login change is lost to an exit.
   */
  flush(): Promise<void>;

  /**
   * The session is gone (removed): waits for its store writes, then drops
   * whatever the connector kept for it between connections, so sessions
   * created and removed over a process's life leave nothing behind.
   */
  forget(session: string): Promise<void>;
}

export const WhatsAppConnector: InjectionToken<WhatsAppConnector> = injectionToken("WhatsAppConnector");
