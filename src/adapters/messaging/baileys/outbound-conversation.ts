import type { ContactCard, MessageTarget } from "../../../domain/conversation.ts";
import { ProviderError } from "../../../domain/errors.ts";
import type { Message } from "../../../domain/message.ts";
import type { MediaStore } from "../../../domain/ports/media-store.port.ts";
import { BAILEYS_PROVIDER } from "../../../domain/ports/messaging-provider.port.ts";
import type { AnyMessageContent, WAMessageKey } from "@whiskeysockets/baileys";
import { heldAttachment, mediaContent, textContent, type OutboundContent } from "./outbound-content.ts";
import { buildVcard } from "./vcard.ts";

/**
 * Checks, before anything goes on the wire, that a message can be sent as
 * its kind says: the facts its kind needs are there, and a reply, a
 * reaction, an edit or a delete knows the WhatsApp message it points at
 * (`target`, filled by the app when it found that message). Throws a
 * terminal ProviderError: sending again cannot make up for a missing fact.
 */
export function checkSendable(message: Message): void {
  const refused = (code: string, why: string): ProviderError => new ProviderError(BAILEYS_PROVIDER, why, false, code);
  const pointsAtAnother = message.replyTo !== null || ["reaction", "edit", "revoke"].includes(message.kind);
  if (pointsAtAnother && message.target === null) {
    throw refused("target-unknown", `this ${message.kind} names a message whose WhatsApp id is not known`);
  }
  const missing =
    (message.kind === "reaction" && !message.reaction) ||
    (message.kind === "edit" && !message.edit) ||
    (message.kind === "revoke" && !message.revoke) ||
    (message.kind === "location" && !message.location) ||
    (message.kind === "contacts" && !message.contacts?.length);
  if (missing) throw refused("invalid-content", `a ${message.kind} message without its ${message.kind}`);
  if ((message.kind === "edit" || message.kind === "revoke") && message.target?.fromMe === false) {
    throw refused("target-not-ours", `WhatsApp lets only the sender ${message.kind} a message`);
  }
}

/** Content that reads no file: nothing to let go of. */
function only(content: AnyMessageContent): OutboundContent {
  return { content, release: () => undefined };
}

/**
 * What Baileys sends for a message in the chat `chatJid`, by its kind: a
 * text or a file (with the quoted message when it is a reply), a location,
 * contact cards, a reaction (an empty emoji takes ours back), an edit of
 * one of our texts or captions, or a delete for everyone. In a group,
 * `targetSender` is the jid of whoever sent the message it points at. Call
 * `checkSendable` first.
 */
export async function outboundContent(
  message: Message,
  chatJid: string,
  store: MediaStore,
  targetSender?: string,
): Promise<OutboundContent> {
  const target = message.target;
  const key = (): WAMessageKey => targetKey(chatJid, target!, targetSender);
  switch (message.kind) {
    case "reaction":
      return only({ react: { text: message.reaction!.emoji, key: key() } });
    case "edit":
      // No link preview: Baileys would fetch any URL in the text.
      return only({ text: message.edit!.text, linkPreview: null, edit: key() });
    case "revoke":
      return only({ delete: key() });
    case "location":
    case "contacts":
    case "text":
    case "media": {
      const content = await quotableContent(message, store);
      if (message.replyTo === null) return content;
      return { ...content, quoted: { key: key(), message: { conversation: target!.text } } };
    }
  }
}

async function quotableContent(message: Message, store: MediaStore): Promise<OutboundContent> {
  if (message.kind === "location") {
    const { latitude, longitude, name, address } = message.location!;
    return only({
      location: {
        degreesLatitude: latitude,
        degreesLongitude: longitude,
        ...(name ? { name } : {}),
        ...(address ? { address } : {}),
      },
    });
  }
  if (message.kind === "contacts") return only({ contacts: contactsContent(message.contacts!) });
  const attachment = heldAttachment(message);
  return attachment ? mediaContent(message, attachment, store) : textContent(message);
}

/** Cards as WhatsApp shares them: one contact message each, named after the card, a count for several. */
export function contactsContent(cards: readonly ContactCard[]): {
  displayName: string;
  contacts: Array<{ displayName: string; vcard: string }>;
} {
  return {
    displayName: cards.length === 1 ? cards[0]!.name : `${cards.length} contacts`,
    contacts: cards.map((card) => ({ displayName: card.name, vcard: buildVcard(card) })),
  };
}

/**
 * The key of the message a reaction, edit or delete points at; in a group,
 * someone else's message is named by its sender's jid too (`participant`).
 * A reply quotes the same key and the target's text (Baileys copies them
 * into the reply's contextInfo: stanzaId, participant, quotedMessage).
 */
function targetKey(chatJid: string, target: MessageTarget, sender: string | undefined): WAMessageKey {
  const key = { remoteJid: chatJid, fromMe: target.fromMe, id: target.providerMessageId };
  return !target.fromMe && sender ? { ...key, participant: sender } : key;
}
