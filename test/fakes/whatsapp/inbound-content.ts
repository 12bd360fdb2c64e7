import { proto } from "@whiskeysockets/baileys";
import { ControlError } from "./errors.ts";
import { parseInboundMedia } from "./media-inbound.ts";
import type { InboundMedia } from "./media-inbound.ts";
import type { SharedLocation } from "./message-decode.ts";
import { quotable } from "./message-memory.ts";
import type { MessageMemory } from "./message-memory.ts";
import type { SimUser } from "./registry.ts";
import { buildVcard } from "./vcard.ts";
import type { ContactCard } from "./vcard.ts";

/** The fields of `POST /control/inbound` that say what a simulated contact sends. */
export interface InboundFields {
  text?: unknown;
  media?: unknown;
  replyTo?: unknown;
  reaction?: unknown;
  edit?: unknown;
  revoke?: unknown;
  location?: unknown;
  contacts?: unknown;
}

/** What the contact sends, checked: exactly one kind of content, and the message it replies to. */
export type InboundContent = (
  | { kind: "text"; text: string }
  | { kind: "media"; media: InboundMedia; bytes: Buffer }
  | { kind: "reaction"; id: string; emoji: string }
  | { kind: "edit"; id: string; text: string }
  | { kind: "revoke"; id: string }
  | { kind: "location"; location: SharedLocation }
  | { kind: "contacts"; contacts: ContactCard[] }
) & { replyTo?: string };

type Fields = Record<string, unknown>;

function object(value: unknown, name: string, shape: string): Fields {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ControlError(400, `${name} must be an object ${shape}`);
  }
  return value as Fields;
}

function messageId(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") throw new ControlError(400, `${name} must be a message id`);
  return value;
}

function optionalString(fields: Fields, key: string, name: string): string | undefined {
  const value = fields[key];
  if (value !== undefined && typeof value !== "string") throw new ControlError(400, `${name}.${key} must be a string`);
  return value as string | undefined;
}

function coordinate(value: unknown, name: string, limit: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || Math.abs(value) > limit) {
    throw new ControlError(400, `${name} must be a number between -${limit} and ${limit}`);
  }
  return value;
}

function parseLocation(value: unknown): SharedLocation {
  const fields = object(value, "location", "{latitude, longitude, name?, address?}");
  const name = optionalString(fields, "name", "location");
  const address = optionalString(fields, "address", "location");
  return {
    latitude: coordinate(fields.latitude, "location.latitude", 90),
    longitude: coordinate(fields.longitude, "location.longitude", 180),
    ...(name ? { name } : {}),
    ...(address ? { address } : {}),
  };
}

const E164 = /^\+[1-9]\d{4,14}$/;

function parseContacts(value: unknown): ContactCard[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ControlError(400, "contacts must be a non-empty array of {name, phones}");
  }
  return value.map((entry, i) => {
    const fields = object(entry, `contacts[${i}]`, "{name, phones}");
    if (typeof fields.name !== "string" || fields.name.trim() === "") {
      throw new ControlError(400, `contacts[${i}].name must be a non-empty string`);
    }
    const phones = fields.phones;
    if (!Array.isArray(phones) || phones.length === 0 || !phones.every((p) => typeof p === "string" && E164.test(p))) {
      throw new ControlError(400, `contacts[${i}].phones must be a non-empty array of +E.164 numbers`);
    }
    return { name: fields.name, phones: phones as string[] };
  });
}

/**
 * Checks what a simulated contact sends: `text` and/or `media`, or one of
 * `reaction`, `edit`, `revoke`, `location`, `contacts`; `replyTo` goes
 * with a text, media, a location or contacts. Throws ControlError 400
 * naming the field at fault.
 */
export function parseInboundContent(input: InboundFields): InboundContent {
  const { text } = input;
  if (text !== undefined && typeof text !== "string") throw new ControlError(400, "text must be a string");
  const given = (["media", "reaction", "edit", "revoke", "location", "contacts"] as const).filter(
    (key) => input[key] !== undefined,
  );
  if (given.length > 1) throw new ControlError(400, `send one of ${given.join(", ")} per message`);
  const kind = given[0];
  if (kind === undefined && text === undefined) {
    // The wording predates the other kinds; tests of media match it exactly.
    throw new ControlError(400, "text or media is needed");
  }
  if (text !== undefined && kind !== undefined && kind !== "media") {
    throw new ControlError(400, `text does not go with ${kind}`);
  }
  const replyTo = input.replyTo === undefined ? undefined : messageId(input.replyTo, "replyTo");
  if (replyTo !== undefined && (kind === "reaction" || kind === "edit" || kind === "revoke")) {
    throw new ControlError(400, `replyTo does not go with ${kind}`);
  }
  const reply = replyTo === undefined ? {} : { replyTo };
  if (kind === undefined) return { kind: "text", text: text as string, ...reply };
  switch (kind) {
    case "media":
      return { kind: "media", ...parseInboundMedia(input.media, text as string | undefined), ...reply };
    case "reaction": {
      const fields = object(input.reaction, "reaction", "{id, emoji}");
      if (typeof fields.emoji !== "string")
        throw new ControlError(400, "reaction.emoji must be a string (empty removes)");
      return { kind: "reaction", id: messageId(fields.id, "reaction.id"), emoji: fields.emoji };
    }
    case "edit": {
      const fields = object(input.edit, "edit", "{id, text}");
      if (typeof fields.text !== "string" || fields.text === "") {
        throw new ControlError(400, "edit.text must be a non-empty string");
      }
      return { kind: "edit", id: messageId(fields.id, "edit.id"), text: fields.text };
    }
    case "revoke":
      return { kind: "revoke", id: messageId(object(input.revoke, "revoke", "{id}").id, "revoke.id") };
    case "location":
      return { kind: "location", location: parseLocation(input.location), ...reply };
    case "contacts":
      return { kind: "contacts", contacts: parseContacts(input.contacts), ...reply };
  }
}

/** Who sends to whom, and how the sender's phone addresses the chat. */
export interface InboundParties {
  sender: SimUser;
  /** The chat: the recipient of a 1:1 message, or the jid of the group the message goes to. */
  chat: SimUser | string;
  /** The contact writes from its LID: jids in the message are LIDs too. */
  fromLid: boolean;
  memory: MessageMemory;
  /** Encrypts and stores the contact's file, as its phone uploads it; returns the media message. */
  upload(media: InboundMedia, bytes: Buffer): Promise<proto.IMessage>;
  /** Finds the user who wrote a remembered message. */
  userOf(phone: string): SimUser | undefined;
}

const { Type } = proto.Message.ProtocolMessage;

/**
 * Builds the message a WhatsApp phone sends for this content. Keys of an
 * earlier message are written from the sender's side (the chat is the
 * recipient or the group, `fromMe` is whether the contact wrote it, in a
 * group `participant` is who did); an edit comes in
 * the editedMessage wrapper, as phones send edits.
 */
export async function composeInbound(content: InboundContent, parties: InboundParties): Promise<proto.IMessage> {
  const { sender, chat, fromLid, memory } = parties;
  const jidOf = (user: SimUser): string => (fromLid ? user.lidJid : user.jid);
  const keyOf = (id: string, fromMe: boolean): proto.IMessageKey => {
    if (typeof chat !== "string") return { remoteJid: jidOf(chat), fromMe, id };
    // In a group, a key also names who wrote the message.
    const author = fromMe ? sender : parties.userOf(memory.find(id)?.author ?? "");
    return { remoteJid: chat, fromMe, id, ...(author ? { participant: jidOf(author) } : {}) };
  };
  const ownMessage = (id: string, what: string): proto.IMessageKey => {
    const known = memory.find(id);
    if (known && known.author !== sender.phone) {
      throw new ControlError(409, `cannot ${what} message ${id}: ${sender.phone} did not send it`);
    }
    return keyOf(id, true);
  };
  switch (content.kind) {
    case "reaction":
      return {
        reactionMessage: {
          key: keyOf(content.id, memory.find(content.id)?.author === sender.phone),
          text: content.emoji,
          senderTimestampMs: Date.now(),
        },
      };
    case "edit":
      return {
        editedMessage: {
          message: {
            protocolMessage: {
              key: ownMessage(content.id, "edit"),
              type: Type.MESSAGE_EDIT,
              editedMessage: { conversation: content.text },
              timestampMs: Date.now(),
            },
          },
        },
      };
    case "revoke":
      return { protocolMessage: { key: ownMessage(content.id, "revoke"), type: Type.REVOKE } };
    default:
      break;
  }
  const context = content.replyTo === undefined ? undefined : quoteContext(content.replyTo, parties, jidOf);
  switch (content.kind) {
    case "text":
      return context
        ? { extendedTextMessage: { text: content.text, contextInfo: context } }
        : { conversation: content.text };
    case "media":
      return withContext(await parties.upload(content.media, content.bytes), context);
    case "location": {
      const { latitude, longitude, name, address } = content.location;
      return {
        locationMessage: {
          degreesLatitude: latitude,
          degreesLongitude: longitude,
          ...(name ? { name } : {}),
          ...(address ? { address } : {}),
          ...(context ? { contextInfo: context } : {}),
        },
      };
    }
    case "contacts": {
      const cards = content.contacts.map((card) => ({ displayName: card.name, vcard: buildVcard(card) }));
      if (cards.length === 1) return { contactMessage: { ...cards[0], ...(context ? { contextInfo: context } : {}) } };
      return {
        contactsArrayMessage: {
          displayName: `${cards.length} contacts`,
          contacts: cards,
          ...(context ? { contextInfo: context } : {}),
        },
      };
    }
  }
}

/** contextInfo of a reply: the quoted message and its author when the simulator knows it, else its id alone. */
function quoteContext(replyTo: string, parties: InboundParties, jidOf: (user: SimUser) => string): proto.IContextInfo {
  const known = parties.memory.find(replyTo);
  const author = known ? parties.userOf(known.author) : undefined;
  if (!known || !author) return { stanzaId: replyTo };
  return { stanzaId: replyTo, participant: jidOf(author), quotedMessage: quotable(known.message) };
}

/** Puts contextInfo on a media message's content (inside documentWithCaptionMessage for a captioned document). */
function withContext(message: proto.IMessage, context: proto.IContextInfo | undefined): proto.IMessage {
  if (!context) return message;
  const inner = message.documentWithCaptionMessage?.message ?? message;
  for (const value of Object.values(inner)) {
    if (typeof value === "object" && value !== null)
      (value as { contextInfo?: proto.IContextInfo }).contextInfo = context;
  }
  return message;
}
