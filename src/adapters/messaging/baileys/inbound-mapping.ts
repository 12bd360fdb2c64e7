import { plainConversation, type Conversation } from "../../../domain/conversation.ts";
import type { InboundWhatsAppMessage } from "../../../domain/ports/whatsapp-connector.port.ts";
import { isLidUser, isPnUser, jidNormalizedUser, toNumber } from "@whiskeysockets/baileys";
import type { WAMessage, WAMessageKey } from "@whiskeysockets/baileys";
import { addressToJid, groupJidToAddress, jidToAddress } from "./addresses.ts";
import { toMember } from "./group-members.ts";
import { readContent, type ReadContent } from "./inbound-conversation.ts";
import { toInboundMedia, type MediaDownloads } from "./inbound-media.ts";

/** What mapping an inbound message needs besides the message. */
export interface InboundContext {
  /** Our own address (`whatsapp:+<digits>`): the recipient of every 1:1 message. */
  readonly to: string;
  /** The phone-number jid behind a LID (Baileys' lid-mapping store), or null when unknown. */
  readonly pnForLid: (lidJid: string) => Promise<string | null>;
  /** The LID jid of a phone-number jid as the lid-mapping store knows it, or null; never asks WhatsApp. */
  readonly lidForPn: (pnJid: string) => Promise<string | null>;
  readonly now: () => Date;
  /** How the file of a media message is downloaded when the gateway opens it. */
  readonly downloads: MediaDownloads;
}

export type InboundMapping =
  | {
      readonly kind: "message";
      readonly message: InboundWhatsAppMessage;
      /**
       * A 1:1 chat: how it is addressed (the sender's phone-number jid, and
       * its LID jid when the chat is LID-addressed); a group: the sender's
       * jid as the message named it.
       */
      readonly chat: { readonly pnJid: string; readonly lidJid?: string } | { readonly participantJid: string };
    }
  | { readonly kind: "skipped"; readonly why: string };

/**
 * Maps one upserted message from someone else to an inbound message, or says
 * why it is not one: our own messages, broadcasts and status posts,
 * newsletters, messages that failed to decrypt, and contents we do not
 * carry (see readContent) are skipped. A file (photo, video, audio, voice
 * note, document, sticker) comes as `media`, its caption as the text; it is
 * downloaded only when the gateway opens it. Replies, reactions, edits,
 * deletes, locations and contact cards come with their `conversation`
 * facts, which name other messages by their WhatsApp ids.
 *
 * The sender is given by phone number: a LID-addressed message carries its
 * sender's number in `remoteJidAlt` (the stanza's `sender_pn`); failing
 * that, Baileys' lid-mapping store is asked. Its LID, whenever known (the
 * chat's own jid, the `sender_lid` of a phone-addressed message, the
 * store), is `conversation.lid`, written as WhatsApp writes a LID without
 * its device: `<digits>@lid` (its digits alone would read like a number).
 *
 * A group message comes from its participant (`key.participant`, the other
 * form of it in `participantAlt`), named the same way, with the group in
 * `conversation.group` and the sender again in `conversation.participant`;
 * a sender whose number is not known is named by its LID.
 */
export async function toInboundMessage(message: WAMessage, context: InboundContext): Promise<InboundMapping> {
  const { key } = message;
  if (key.fromMe) return skipped("sent by us");
  if (!key.id) return skipped("no message id");
  const chat = key.remoteJid ?? undefined;
  const group = groupJidToAddress(chat);
  if (!group && !isPnUser(chat) && !isLidUser(chat)) return skipped("not a 1:1 chat or a group");
  if (!message.message && message.messageStubType) return skipped(`stub ${message.messageStubType}`);
  const content = readContent(message.message);
  if ("skipped" in content) return skipped(content.skipped);
  if (group) return groupMessage(message, group, content.read, context);
  const alternates = key as { remoteJidAlt?: string; senderPn?: string };
  const pnJid = await senderPnJid(chat!, alternates, context);
  const from = jidToAddress(pnJid);
  if (!pnJid || !from) return skipped("sender's phone number unknown (LID without mapping)");
  const lidJid = isLidUser(chat) ? chat : undefined;
  const lid = lidJid ?? (isLidUser(alternates.remoteJidAlt) ? alternates.remoteJidAlt : await context.lidForPn(pnJid));
  const { read } = content;
  const conversation = oneToOneConversation(read, lid ? jidNormalizedUser(lid) : null);
  return {
    kind: "message",
    message: inbound(message, from, read, conversation, context),
    chat: { pnJid: jidNormalizedUser(pnJid), ...(lidJid ? { lidJid: jidNormalizedUser(lidJid) } : {}) },
  };
}

async function groupMessage(
  message: WAMessage,
  group: string,
  read: ReadContent,
  context: InboundContext,
): Promise<InboundMapping> {
  const key = message.key as WAMessageKey & { participantPn?: string };
  const participant = key.participant ?? undefined;
  // rc14 names the other form participantAlt; older 7.x builds said participantPn.
  const member = await toMember(participant, key.participantAlt ?? key.participantPn, context.pnForLid);
  if (!participant || !member) return skipped("group message from no known participant");
  const pnJid = addressToJid(member.address);
  const lid = member.lid ?? (pnJid ? await context.lidForPn(pnJid) : null);
  const conversation: Conversation = {
    ...conversationOf(read, lid ? jidNormalizedUser(lid) : null),
    group,
    participant: member.address,
  };
  return {
    kind: "message",
    message: inbound(message, member.address, read, conversation, context),
    chat: { participantJid: jidNormalizedUser(participant) },
  };
}

function inbound(
  message: WAMessage,
  from: string,
  read: ReadContent,
  conversation: Conversation | undefined,
  context: InboundContext,
): InboundWhatsAppMessage {
  const seconds = toNumber(message.messageTimestamp ?? 0);
  return {
    providerMessageId: message.key.id!,
    from,
    to: context.to,
    text: read.text,
    media: read.media ? [toInboundMedia(message, read.media, context.downloads)] : [],
    ...(conversation ? { conversation } : {}),
    at: seconds > 0 ? new Date(seconds * 1000) : context.now(),
  };
}

/** The conversation facts of what was read, with the sender's LID. */
function conversationOf(read: ReadContent, lid: string | null): Conversation {
  const { kind, replyTo, location, contacts, reaction, edit, revoke } = read;
  return { ...plainConversation(kind), replyTo, location, contacts, reaction, edit, revoke, lid };
}

/** Undefined for a plain text or file from a sender whose LID is unknown: nothing to say beyond the text. */
function oneToOneConversation(read: ReadContent, lid: string | null): Conversation | undefined {
  const plain = (read.kind === "text" || read.kind === "media") && read.replyTo === null;
  return plain && lid === null ? undefined : conversationOf(read, lid);
}

async function senderPnJid(
  chat: string,
  key: { remoteJidAlt?: string; senderPn?: string },
  context: InboundContext,
): Promise<string | undefined> {
  if (isPnUser(chat)) return chat;
  // rc14 names the alternate jid remoteJidAlt; older 7.x builds said senderPn.
  if (isPnUser(key.remoteJidAlt)) return key.remoteJidAlt;
  if (isPnUser(key.senderPn)) return key.senderPn;
  return (await context.pnForLid(chat)) ?? undefined;
}

function skipped(why: string): InboundMapping {
  return { kind: "skipped", why };
}
