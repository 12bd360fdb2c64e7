import type { InboundWhatsAppMessage } from "../../../domain/ports/whatsapp-connector.port.ts";
import { isLidUser, isPnUser, normalizeMessageContent, toNumber } from "@whiskeysockets/baileys";
import type { WAMessage } from "@whiskeysockets/baileys";
import { jidToAddress } from "./addresses.ts";
import { findMedia, toInboundMedia, type MediaDownloads } from "./inbound-media.ts";

/** What mapping an inbound message needs besides the message. */
export interface InboundContext {
  /** Our own address (`whatsapp:+<digits>`): the recipient of every 1:1 message. */
  readonly to: string;
  /** The phone-number jid behind a LID (Baileys' lid-mapping store), or null when unknown. */
  readonly pnForLid: (lidJid: string) => Promise<string | null>;
  readonly now: () => Date;
  /** How the file of a media message is downloaded when the gateway opens it. */
  readonly downloads: MediaDownloads;
}

export type InboundMapping =
  | { readonly kind: "message"; readonly message: InboundWhatsAppMessage }
  | { readonly kind: "skipped"; readonly why: string };

/** The text of a message: `conversation` or an extended text, inside any ephemeral/view-once wrapper. */
export function textOf(message: WAMessage): string | undefined {
  const content = normalizeMessageContent(message.message);
  const text = content?.conversation ?? content?.extendedTextMessage?.text;
  return typeof text === "string" && text.length > 0 ? text : undefined;
}

/**
 * Maps one upserted message from someone else to an inbound message, or says
 * why it is not one: our own messages, groups, broadcasts and status posts,
 * newsletters, and anything with neither text nor a file (reactions,
 * protocol messages, messages that failed to decrypt) are skipped. A file
 * (photo, video, audio, voice note, document, sticker) comes as `media`,
 * its caption as the text; it is downloaded only when the gateway opens
 * it. The sender is given by phone number: a LID-addressed message carries
 * its sender's number in `remoteJidAlt` (the stanza's `sender_pn`); failing
 * that, Baileys' lid-mapping store is asked.
 */
export async function toInboundMessage(message: WAMessage, context: InboundContext): Promise<InboundMapping> {
  const { key } = message;
  if (key.fromMe) return skipped("sent by us");
  if (!key.id) return skipped("no message id");
  const chat = key.remoteJid ?? undefined;
  if (!isPnUser(chat) && !isLidUser(chat)) return skipped("not a 1:1 chat");
  const text = textOf(message);
  const found = findMedia(message.message);
  if (text === undefined && !found) {
    return skipped(message.messageStubType ? `stub ${message.messageStubType}` : "no text or file");
  }
  const from = await senderAddress(chat!, key as { remoteJidAlt?: string; senderPn?: string }, context);
  if (!from) return skipped("sender's phone number unknown (LID without mapping)");
  const seconds = toNumber(message.messageTimestamp ?? 0);
  return {
    kind: "message",
    message: {
      providerMessageId: key.id,
      from,
      to: context.to,
      text: text ?? found?.fields.caption ?? "",
      media: found ? [toInboundMedia(message, found, context.downloads)] : [],
      at: seconds > 0 ? new Date(seconds * 1000) : context.now(),
    },
  };
}

async function senderAddress(
  chat: string,
  key: { remoteJidAlt?: string; senderPn?: string },
  context: InboundContext,
): Promise<string | undefined> {
  if (isPnUser(chat)) return jidToAddress(chat);
  // rc14 names the alternate jid remoteJidAlt; older 7.x builds said senderPn.
  const alternate = jidToAddress(key.remoteJidAlt) ?? jidToAddress(key.senderPn);
  if (alternate) return alternate;
  return jidToAddress(await context.pnForLid(chat));
}

function skipped(why: string): InboundMapping {
  return { kind: "skipped", why };
}
