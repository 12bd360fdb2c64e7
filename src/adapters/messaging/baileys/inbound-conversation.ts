import type { ContactCard, Edit, Location, MessageKind, Reaction, Revoke } from "../../../domain/conversation.ts";
import { getContentType, normalizeMessageContent, proto } from "@whiskeysockets/baileys";
import { findMedia, type FoundMedia } from "./inbound-media.ts";
import { parseVcard } from "./vcard.ts";

/** What a received message says, in our words; message ids in it are WhatsApp's. */
export interface ReadContent {
  readonly kind: MessageKind;
  /** The text, a caption, an edit's new text; empty for a reaction, a delete, a location or contacts. */
  readonly text: string;
  readonly media?: FoundMedia;
  /** The id of the message it quotes (`contextInfo.stanzaId`). */
  readonly replyTo: string | null;
  readonly location: Location | null;
  readonly contacts: readonly ContactCard[] | null;
  readonly reaction: Reaction | null;
  readonly edit: Edit | null;
  readonly revoke: Revoke | null;
}

export type ReadResult = { readonly read: ReadContent } | { readonly skipped: string };

const { Type } = proto.Message.ProtocolMessage;

/**
 * Reads a received message's content, inside any wrapper (ephemeral, view
 * once, the `editedMessage` an edit comes in): a text, a file with its
 * caption, a location, contact cards, a reaction (an empty emoji: taken
 * back), an edit of an earlier message (its new text) or a delete for
 * everyone, and which message it replies to. Anything else (protocol
 * messages that are not edits or deletes, polls, calls...) is skipped,
 * with the reason.
 */
export function readContent(message: proto.IMessage | null | undefined): ReadResult {
  const content = normalizeMessageContent(message);
  if (!content) return { skipped: "no content" };
  const none = { replyTo: null, location: null, contacts: null, reaction: null, edit: null, revoke: null };
  const protocol = content.protocolMessage;
  if (protocol) {
    const id = protocol.key?.id;
    if (protocol.type === Type.REVOKE && id)
      return { read: { ...none, kind: "revoke", text: "", revoke: { messageId: id } } };
    if (protocol.type === Type.MESSAGE_EDIT && id) {
      const text = textOf(protocol.editedMessage) ?? "";
      return { read: { ...none, kind: "edit", text, edit: { messageId: id, text } } };
    }
    return { skipped: `protocol message ${protocol.type ?? "?"}` };
  }
  if (content.reactionMessage) {
    const { key, text } = content.reactionMessage;
    if (!key?.id) return { skipped: "reaction to no message" };
    return { read: { ...none, kind: "reaction", text: "", reaction: { messageId: key.id, emoji: text ?? "" } } };
  }
  const replyTo = contextInfoOf(content)?.stanzaId || null;
  const location = locationOf(content);
  if (location) return { read: { ...none, kind: "location", text: "", replyTo, location } };
  const contacts = contactsOf(content);
  if (contacts) return { read: { ...none, kind: "contacts", text: "", replyTo, contacts } };
  const media = findMedia(content);
  const text = textOf(content);
  if (!media && text === undefined) return { skipped: `no text or file (${getContentType(content) ?? "empty"})` };
  return { read: { ...none, kind: media ? "media" : "text", text: text ?? "", replyTo, ...(media ? { media } : {}) } };
}

/** The text of a message (`conversation`, an extended text), else a file's caption, inside any wrapper. */
function textOf(message: proto.IMessage | null | undefined): string | undefined {
  const content = normalizeMessageContent(message);
  const text = content?.conversation ?? content?.extendedTextMessage?.text;
  if (typeof text === "string" && text.length > 0) return text;
  return findMedia(content)?.fields.caption || undefined;
}

/** The contextInfo of the message's content, whichever type the content is. */
function contextInfoOf(content: proto.IMessage): proto.IContextInfo | undefined {
  const type = getContentType(content);
  const inner = type ? (content[type] as { contextInfo?: proto.IContextInfo | null } | string | null) : undefined;
  return typeof inner === "object" && inner ? (inner.contextInfo ?? undefined) : undefined;
}

function locationOf(content: proto.IMessage): Location | null {
  const shared = content.locationMessage ?? content.liveLocationMessage;
  if (!shared) return null;
  const place = content.locationMessage;
  return {
    latitude: shared.degreesLatitude ?? 0,
    longitude: shared.degreesLongitude ?? 0,
    name: place?.name || null,
    address: place?.address || null,
  };
}

function contactsOf(content: proto.IMessage): ContactCard[] | null {
  const cards = content.contactMessage ? [content.contactMessage] : content.contactsArrayMessage?.contacts;
  if (!cards?.length) return null;
  return cards.map((card) => parseVcard(card.vcard ?? "", card.displayName ?? ""));
}
