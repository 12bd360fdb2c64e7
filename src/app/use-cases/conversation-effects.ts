import { targetOf } from "../../domain/conversation.ts";
import type { Message } from "../../domain/message.ts";
import type { Clock } from "../../domain/ports/clock.port.ts";
import type { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import type { MessageStore } from "../../domain/ports/message-store.port.ts";
import { PreparationError } from "../dispatcher/preparation-error.ts";

/**
 * What the dispatcher does for replies, reactions, edits and deletes around
 * their send: before, it finds the WhatsApp message they point at (the
 * message before them in the chat has been sent by then: the queue keeps
 * the chat's order); after, an edit or delete of ours changes the message it
 * names, which is announced as `message.edited` / `message.deleted`.
 */
export class ConversationEffects {
  constructor(
    private readonly store: MessageStore,
    private readonly events: DomainEvents,
    private readonly clock: Clock,
  ) {}

  /** The message with its `target` filled when it points at another one. @throws PreparationError */
  async prepare(message: Message): Promise<Message> {
    const id = targetOf(message);
    if (id === null || message.target !== null) return message;
    const target = await this.store.get(id);
    // Not one of ours: a provider id the client gave (a reply to a message we never recorded).
    const found = target
      ? {
          providerMessageId: target.providerMessageId,
          fromMe: target.direction === "outbound",
          text: target.text,
          // In a group, WhatsApp names a quoted or reacted-to message by its sender too.
          participant: target.direction === "inbound" ? target.participant : null,
        }
      : { providerMessageId: id, fromMe: false, text: "", participant: null };
    if (found.providerMessageId === null) {
      throw new PreparationError(
        "message.target_not_sent",
        `message ${id}, which this one points at, was never sent (${target?.status ?? "unknown"})`,
        false,
      );
    }
    const resolved = { ...found, providerMessageId: found.providerMessageId };
    const amended = await this.store.amend(message.id, { kind: "target", target: resolved }, this.clock.now());
    return amended?.message ?? message;
  }

  /** Applies a sent edit or delete to the message it names. */
  async sent(message: Message): Promise<void> {
    const now = this.clock.now();
    if (message.kind === "edit" && message.edit) {
      const result = await this.store.amend(message.edit.messageId, { kind: "edited", text: message.edit.text }, now);
      if (result?.changed) this.events.publish({ type: "message.edited", message: result.message });
    } else if (message.kind === "revoke" && message.revoke) {
      const result = await this.store.amend(message.revoke.messageId, { kind: "deleted" }, now);
      if (result?.changed) this.events.publish({ type: "message.deleted", message: result.message });
    }
  }
}
