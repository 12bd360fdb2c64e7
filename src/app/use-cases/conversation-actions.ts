import { parseAddress, formatAddress } from "../../domain/address.ts";
import { checkEditWindow, plainConversation, type Conversation } from "../../domain/conversation.ts";
import { DomainError } from "../../domain/errors.ts";
import type { Message } from "../../domain/message.ts";
import type { Clock } from "../../domain/ports/clock.port.ts";
import type { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import type { MessageStore } from "../../domain/ports/message-store.port.ts";
import type {
  ContactLookup,
  ConversationControl,
  MessagingProvider,
  PresenceState,
} from "../../domain/ports/messaging-provider.port.ts";
import { newMessageId } from "../message-id.ts";

/** How long an answer of `lookup` is reused (a number's WhatsApp account rarely appears or goes). */
const LOOKUP_TTL_MS = 6 * 3_600_000;
const LOOKUP_CACHE_MAX = 10_000;

/** The chat a message belongs to: its group; else its recipient when we sent it, its sender when we received it. */
export function chatOf(message: Message): string {
  if (message.group !== null) return message.group;
  return message.direction === "outbound" ? message.to : (message.from ?? "");
}

/**
 * What one does to messages already in a chat, and to the chat itself:
 * react, edit, delete for everyone (each queued behind the chat's earlier
 * messages, so it keeps its place and goes out exactly once), mark read,
 * show typing, and ask whether a number is on WhatsApp.
 */
export class ConversationActions {
  readonly #lookups = new Map<string, { readonly answer: ContactLookup; readonly until: number }>();

  constructor(
    private readonly store: MessageStore,
    private readonly providers: readonly MessagingProvider[],
    private readonly events: DomainEvents,
    private readonly clock: Clock,
  ) {}

  /** Queues a reaction to a message of the chat (ours or received); an empty emoji removes ours. */
  async react(messageId: string, emoji: string): Promise<Message> {
    const target = await this.#message(messageId);
    this.#conversations(target);
    if (target.deletedAt !== null) throw notSupported(`message ${messageId} was deleted`);
    if (target.kind === "reaction" || target.kind === "edit" || target.kind === "revoke") {
      throw notSupported(`a ${target.kind} cannot be reacted to`);
    }
    return this.#queue(target, { ...plainConversation("reaction"), reaction: { messageId: target.id, emoji } });
  }

  /**
   * Edits one of our text messages: a message still queued gets its new text
   * at once; a sent one within WhatsApp's edit window gets an edit queued,
   * and its text changes once the edit went out.
   * @returns the message after the edit (queued), or the queued edit.
   */
  async edit(messageId: string, text: string): Promise<Message> {
    const target = await this.#message(messageId);
    this.#conversations(target);
    if (target.direction !== "outbound" || target.kind !== "text") {
      throw new DomainError(
        "MESSAGE.NOT_EDITABLE",
        `only text messages we sent can be edited; ${messageId} is not one`,
      );
    }
    if (target.deletedAt !== null || target.status === "failed") {
      throw new DomainError(
        "MESSAGE.NOT_EDITABLE",
        `message ${messageId} was ${target.deletedAt ? "deleted" : "not sent"}`,
      );
    }
    const now = this.clock.now();
    if (target.status === "queued") {
      const result = await this.store.amend(target.id, { kind: "edited", text }, now);
      // Claimed meanwhile: it is on its way, edit it as a sent one.
      if (result?.changed && result.message.status === "queued") {
        this.events.publish({ type: "message.edited", message: result.message });
        return result.message;
      }
    }
    const sentAt = target.history.find((change) => change.status === "sent")?.at ?? target.updatedAt;
    const closed = checkEditWindow(new Date(sentAt), now);
    if (closed) throw closed;
    return this.#queue(target, { ...plainConversation("edit"), edit: { messageId: target.id, text } });
  }

  /**
   * Deletes one of our messages for everyone. A message still queued is
   * cancelled instead: it is never sent.
   * @returns the cancelled message, or the queued delete.
   */
  async delete(messageId: string): Promise<Message> {
    const target = await this.#message(messageId);
    if (target.direction !== "outbound") {
      throw new DomainError("MESSAGE.NOT_DELETABLE", `only messages we sent can be deleted; ${messageId} was received`);
    }
    if (target.deletedAt !== null) return target;
    if (target.status === "failed") {
      throw new DomainError("MESSAGE.NOT_DELETABLE", `message ${messageId} was never sent: there is nothing to delete`);
    }
    const now = this.clock.now();
    const cancelled = await this.store.amend(target.id, { kind: "cancelled" }, now);
    if (cancelled?.changed) {
      this.events.publish({ type: "message.deleted", message: cancelled.message });
      this.events.publish({ type: "message.status", message: cancelled.message, reached: ["failed"] });
      return cancelled.message;
    }
    // In flight or sent: a delete for everyone, behind it in the chat.
    this.#conversations(target);
    return this.#queue(target, { ...plainConversation("revoke"), revoke: { messageId: target.id } });
  }

  /** Marks a received message read (blue ticks). */
  async markRead(messageId: string): Promise<void> {
    const message = await this.#message(messageId);
    if (message.direction !== "inbound") {
      throw notSupported(`only received messages can be marked read; ${messageId} was sent by us`);
    }
    await this.#conversations(message).markRead(message);
  }

  /** Shows typing, recording or nothing to `to` in a session's chat. */
  async presence(session: string, to: string, state: PresenceState): Promise<void> {
    const address = parseAddress(to, "to", "whatsapp", "whatsapp");
    if (address.channel !== "whatsapp") throw notSupported("presence is shown on WhatsApp only");
    await this.#sessionConversations(session).presence(session, formatAddress(address), state);
  }

  /** Whether an address is on WhatsApp, and its LID; answers are reused for a few hours. */
  async lookup(addressText: string, session: string): Promise<ContactLookup> {
    const address = formatAddress(parseAddress(addressText, "address", "whatsapp", "whatsapp"));
    if (!address.startsWith("whatsapp:")) throw notSupported("only WhatsApp numbers can be looked up");
    const key = `${session}|${address}`;
    const now = this.clock.now().getTime();
    const cached = this.#lookups.get(key);
    if (cached && cached.until > now) return cached.answer;
    const answer = await this.#sessionConversations(session).lookup(session, address);
    if (this.#lookups.size >= LOOKUP_CACHE_MAX) this.#lookups.delete(this.#lookups.keys().next().value!);
    this.#lookups.set(key, { answer, until: now + LOOKUP_TTL_MS });
    return answer;
  }

  async #queue(target: Message, conversation: Conversation): Promise<Message> {
    const now = this.clock.now();
    const result = await this.store.enqueue({
      id: newMessageId(now.getTime()),
      provider: target.provider,
      session: target.session,
      channel: target.channel,
      to: chatOf(target),
      from: null,
      text: "",
      media: [],
      conversation,
      metadata: null,
      idempotency: null,
      at: now,
    });
    this.events.publish({ type: "message.accepted", message: result.message });
    return result.message;
  }

  async #message(id: string): Promise<Message> {
    const message = await this.store.get(id);
    if (!message) throw new DomainError("MESSAGE.NOT_FOUND", `message ${id} not found`);
    return message;
  }

  /** The chat features of the provider that carries `message`; 422 for one without them (SMS). */
  #conversations(message: Message): ConversationControl {
    const control = this.providers.find((p) => p.id === message.provider)?.conversations;
    if (!control || message.channel !== "whatsapp") {
      throw notSupported(
        `reactions, edits, deletes and read marks are WhatsApp features; this is a ${message.channel} message`,
      );
    }
    return control;
  }

  #sessionConversations(session: string): ConversationControl {
    const provider = this.providers.find((p) => p.conversations && p.hasSession(session));
    if (!provider?.conversations) {
      if (this.providers.some((p) => p.conversations)) {
        throw new DomainError("SESSION.NOT_FOUND", `no WhatsApp session "${session}"`);
      }
      throw notSupported("this gateway runs no WhatsApp provider with sessions");
    }
    return provider.conversations;
  }
}

function notSupported(detail: string): DomainError {
  return new DomainError("MESSAGE.NOT_SUPPORTED", detail);
}
