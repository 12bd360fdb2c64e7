import { DomainError } from "./errors.ts";

/**
 * What a message is: words (`text`), a file (`media`), a place, contact
 * cards, a reaction to another message, or (outbound only) an edit or a
 * delete-for-everyone of one of ours, which travel through the queue like
 * any message so they keep their place in the chat's order.
 */
export const MessageKinds = ["text", "media", "location", "contacts", "reaction", "edit", "revoke"] as const;
export type MessageKind = (typeof MessageKinds)[number];

export interface Location {
  readonly latitude: number;
  readonly longitude: number;
  readonly name: string | null;
  readonly address: string | null;
}

/** A contact card (vCard): a name and phone numbers in E.164 (`+40712345678`). */
export interface ContactCard {
  readonly name: string;
  readonly phones: readonly string[];
}

/** A reaction to a message: `messageId` is our id of it when we know it, else the provider's. Empty emoji: removed. */
export interface Reaction {
  readonly messageId: string;
  readonly emoji: string;
}

/** An edit of one of our sent messages, queued: `messageId` is ours. */
export interface Edit {
  readonly messageId: string;
  readonly text: string;
}

/** A delete for everyone of one of our sent messages, queued. */
export interface Revoke {
  readonly messageId: string;
}

/** An earlier text of an edited message. */
export interface TextVersion {
  readonly text: string;
  /** When it stopped being the text. */
  readonly replacedAt: string;
}

/**
 * The message another one refers to (a reply's quoted message, what a
 * reaction, edit or delete applies to), as the provider needs it to address
 * that message: filled when the message is sent.
 */
export interface MessageTarget {
  readonly providerMessageId: string;
  /** Whether the target is a message we sent. */
  readonly fromMe: boolean;
  /** The target's text, shown in the quote of a reply. */
  readonly text: string;
  /** Who sent a target received in a group (its `participant`): WhatsApp names a group message by its sender too. */
  readonly participant?: string | null;
}

/** WhatsApp lets the sender edit a message for 15 minutes after sending it. */
export const EDIT_WINDOW_MS = 15 * 60_000;

/** The facts about a message beyond its text and media (stored together, shown on the message). */
export interface Conversation {
  readonly kind: MessageKind;
  /** The message this one answers: our id when we know it, else the provider's. */
  readonly replyTo: string | null;
  readonly location: Location | null;
  readonly contacts: readonly ContactCard[] | null;
  readonly reaction: Reaction | null;
  readonly edit: Edit | null;
  readonly revoke: Revoke | null;
  /** What replyTo/reaction/edit/revoke names, for the provider; set when the message is sent. */
  readonly target: MessageTarget | null;
  readonly editedAt: string | null;
  readonly deletedAt: string | null;
  /** Earlier texts, oldest first. */
  readonly edits: readonly TextVersion[];
  /**
   * The other party's WhatsApp LID (its private id) when known: the sender
   * of an inbound message, the recipient of an outbound one. Addresses stay
   * in phone-number form whenever the number is known.
   */
  readonly lid: string | null;
  /** The group (`whatsapp:group:<id>`) of a message received in a group; null in a 1:1 chat. */
  readonly group: string | null;
  /** Who sent a message received in a group (phone-number form when known; `lid` beside it). */
  readonly participant: string | null;
}

/** A plain text or media message's conversation facts: nothing but its kind. */
export function plainConversation(kind: MessageKind = "text"): Conversation {
  return {
    kind,
    replyTo: null,
    location: null,
    contacts: null,
    reaction: null,
    edit: null,
    revoke: null,
    target: null,
    editedAt: null,
    deletedAt: null,
    edits: [],
    lid: null,
    group: null,
    participant: null,
  };
}

/** Kinds that point at another message: sent only once that message's provider id is known. */
export function targetOf(conversation: Conversation): string | null {
  return (
    conversation.reaction?.messageId ??
    conversation.edit?.messageId ??
    conversation.revoke?.messageId ??
    conversation.replyTo
  );
}

/** Whether an edit of a message sent at `sentAt` is still allowed at `now`; the 409 when it is not. */
export function checkEditWindow(sentAt: Date, now: Date): DomainError | undefined {
  if (now.getTime() - sentAt.getTime() <= EDIT_WINDOW_MS) return undefined;
  return new DomainError(
    "MESSAGE.EDIT_WINDOW_CLOSED",
    `WhatsApp lets a message be edited for ${EDIT_WINDOW_MS / 60_000} minutes after it was sent; this one was sent at ${sentAt.toISOString()}`,
  );
}

/** The conversation facts after the text was replaced by an edit at `at`, the old text kept. */
export function edited(conversation: Conversation, previousText: string, at: Date): Conversation {
  return {
    ...conversation,
    editedAt: at.toISOString(),
    edits: [...conversation.edits, { text: previousText, replacedAt: at.toISOString() }],
  };
}

/** The conversation facts of a message deleted for everyone at `at` (its text and files are dropped by the caller). */
export function deleted(conversation: Conversation, at: Date): Conversation {
  return { ...conversation, deletedAt: at.toISOString(), edits: [] };
}
