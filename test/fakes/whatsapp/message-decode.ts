import { proto } from "@whiskeysockets/baileys";
import { findMedia } from "./media-verify.ts";
import { parseVcard } from "./vcard.ts";
import type { ContactCard } from "./vcard.ts";

/** What a message is, as `kind` of a `/control/messages` entry names it. */
export type MessageKind = "text" | "media" | "reaction" | "edit" | "revoke" | "location" | "contacts";

export interface SharedLocation {
  latitude: number;
  longitude: number;
  name?: string;
  address?: string;
}

/** The content of a message a linked account sent, in the control API's words. */
export interface DecodedContent {
  kind: MessageKind;
  /** The visible text: a text, a caption, a reaction's emoji, an edit's new text; null when there is none. */
  text: string | null;
  /** The id of the quoted message (contextInfo.stanzaId), whatever the kind. */
  replyTo?: string;
  /** Empty `emoji`: the reaction is removed. */
  reaction?: { id: string; emoji: string };
  edit?: { id: string; text: string | null };
  revoke?: { id: string };
  location?: SharedLocation;
  contacts?: ContactCard[];
}

const { Type } = proto.Message.ProtocolMessage;

/**
 * Wrappers that carry another message: what the account's own devices get
 * (deviceSentMessage), disappearing and view-once messages, the future-proof
 * wrapper an edit may come in (editedMessage), a captioned document.
 */
export function unwrapMessage(message: proto.IMessage): proto.IMessage {
  let current = message;
  for (let depth = 0; depth < 5; depth++) {
    const inner =
      current.deviceSentMessage?.message ??
      current.ephemeralMessage?.message ??
      current.viewOnceMessage?.message ??
      current.viewOnceMessageV2?.message ??
      current.editedMessage?.message ??
      current.documentWithCaptionMessage?.message;
    if (!inner) break;
    current = inner;
  }
  return current;
}

/** The text a message shows: its text or its caption. */
export function visibleText(message: proto.IMessage | null | undefined): string | null {
  if (!message) return null;
  const m = unwrapMessage(message);
  return (
    m.conversation ??
    m.extendedTextMessage?.text ??
    m.imageMessage?.caption ??
    m.videoMessage?.caption ??
    m.documentMessage?.caption ??
    null
  );
}

/** The contextInfo of a message's content, wherever the content's type puts it. */
function contextInfoOf(message: proto.IMessage): proto.IContextInfo | undefined {
  for (const value of Object.values(message)) {
    if (typeof value !== "object" || value === null) continue;
    const info = (value as { contextInfo?: proto.IContextInfo | null }).contextInfo;
    if (info) return info;
  }
  return undefined;
}

function location(m: proto.IMessage): SharedLocation | undefined {
  const shared = m.locationMessage ?? m.liveLocationMessage;
  if (!shared) return undefined;
  const named = m.locationMessage;
  return {
    latitude: shared.degreesLatitude ?? 0,
    longitude: shared.degreesLongitude ?? 0,
    ...(named?.name ? { name: named.name } : {}),
    ...(named?.address ? { address: named.address } : {}),
  };
}

function contacts(m: proto.IMessage): ContactCard[] | undefined {
  const cards = m.contactMessage ? [m.contactMessage] : m.contactsArrayMessage?.contacts;
  if (!cards) return undefined;
  return cards.map((card) => parseVcard(card.vcard ?? "", card.displayName ?? ""));
}

/**
 * Reads what a linked account sent, as its recipient's phone would show it:
 * a text, media, a reaction, an edit or a delete for everyone of an earlier
 * message, a location, shared contacts; and which message it replies to.
 */
export function decodeContent(message: proto.IMessage): DecodedContent {
  const m = unwrapMessage(message);
  const replyTo = contextInfoOf(m)?.stanzaId;
  const reply = replyTo ? { replyTo } : {};
  const protocol = m.protocolMessage;
  if (protocol?.type === Type.REVOKE && protocol.key?.id) {
    return { kind: "revoke", text: null, ...reply, revoke: { id: protocol.key.id } };
  }
  if (protocol?.type === Type.MESSAGE_EDIT && protocol.key?.id) {
    const text = visibleText(protocol.editedMessage);
    return { kind: "edit", text, ...reply, edit: { id: protocol.key.id, text } };
  }
  if (m.reactionMessage) {
    const emoji = m.reactionMessage.text ?? "";
    return { kind: "reaction", text: emoji, ...reply, reaction: { id: m.reactionMessage.key?.id ?? "", emoji } };
  }
  const place = location(m);
  if (place) return { kind: "location", text: null, ...reply, location: place };
  const cards = contacts(m);
  if (cards) return { kind: "contacts", text: null, ...reply, contacts: cards };
  return { kind: findMedia(m) ? "media" : "text", text: visibleText(m), ...reply };
}
