import { ProviderError } from "../../../domain/errors.ts";
import type { Message } from "../../../domain/message.ts";
import type { Logger } from "../../../domain/ports/logger.port.ts";
import type { MediaStore } from "../../../domain/ports/media-store.port.ts";
import {
  BAILEYS_PROVIDER,
  type SendProgress,
  type SendReceipt,
} from "../../../domain/ports/messaging-provider.port.ts";
import { isJidGroup, type WASocket } from "@whiskeysockets/baileys";
import { memberAddressToJid } from "./addresses.ts";
import type { ChatAddressing } from "./chat-addressing.ts";
import type { RecentGroupSenders } from "./group-senders.ts";
import { heldAttachment } from "./outbound-content.ts";
import { checkSendable, outboundContent } from "./outbound-conversation.ts";
import { toProviderError } from "./send-errors.ts";
import type { ServerAcks } from "./server-acks.ts";
import { deriveWaMessageId } from "./wa-message-id.ts";

/** What one send needs of its open connection. */
export interface SendContext {
  readonly sock: WASocket;
  readonly acks: ServerAcks;
  readonly chats: ChatAddressing;
  readonly media: { readonly store: MediaStore; readonly timeoutMs: number };
  readonly logger: Logger;
  readonly session: string;
  /** Who sent the group messages received lately: a reply or reaction in a group names its target's sender. */
  readonly senders: RecentGroupSenders;
}

/** Where a message goes: a person's chat (by phone-number jid, addressed as ChatAddressing says) or a group. */
export type Recipient = { readonly pnJid: string } | { readonly groupJid: string };

/**
 * Sends a message of any kind (text, one held attachment streamed from the
 * MediaStore and uploaded first, a location, contacts, a reply, a reaction,
 * an edit, a delete) to a person, in the chat as it is addressed (see
 * ChatAddressing), or to a group, with the WhatsApp id derived from `message.id` whatever
 * the kind, so a send repeated after a crash or a lost ack is the same
 * message to WhatsApp. Resolves once the WhatsApp server acknowledged the
 * stanza (its `<ack>`), with status `sent`; `progress.written` is called
 * before that, as soon as Baileys wrote the stanza (after the upload).
 * Checks first that a person has devices: a send to nobody would otherwise
 * "succeed" and lose the message (a group's members are Baileys' to find,
 * from the cached group metadata). Throws ProviderError.
 */
export async function sendOnSocket(
  context: SendContext,
  message: Message,
  recipient: Recipient,
  progress?: SendProgress,
): Promise<SendReceipt> {
  const { sock, acks, media, logger, session } = context;
  checkSendable(message);
  const attachment = message.kind === "text" || message.kind === "media" ? heldAttachment(message) : undefined;
  const waId = deriveWaMessageId(message.id);
  try {
    const jid = "groupJid" in recipient ? recipient.groupJid : await personJid(context, message, recipient.pnJid);
    const outgoing = await outboundContent(message, jid, media.store, targetSender(context, message, jid));
    if (outgoing.droppedCaption !== undefined) {
      logger.warn(
        { session, messageId: message.id, kind: attachment?.kind },
        "baileys: WhatsApp shows no caption on this kind of file; the text is not sent",
      );
    }
    const ack = acks.expect(waId);
    try {
      await sock.sendMessage(jid, outgoing.content, {
        messageId: waId,
        ...(outgoing.quoted ? { quoted: outgoing.quoted } : {}),
        ...(attachment ? { mediaUploadTimeoutMs: media.timeoutMs } : {}),
      });
    } catch (error) {
      ack.cancel();
      throw error;
    } finally {
      outgoing.release();
    }
    progress?.written();
    await ack.wait();
  } catch (error) {
    const failure = toProviderError(error);
    logger.warn(
      { session, messageId: message.id, waId, kind: message.kind, err: failure.message, retryable: failure.retryable },
      "baileys: send failed",
    );
    throw failure;
  }
  return { providerMessageId: waId, status: "sent" };
}

/** The person's chat jid, once WhatsApp listed devices for it. */
async function personJid({ sock, chats }: SendContext, message: Message, pnJid: string): Promise<string> {
  const jid = await chats.chatJid(pnJid);
  const devices = await sock.getUSyncDevices([jid], true, false);
  if (devices.length === 0) {
    throw new ProviderError(
      BAILEYS_PROVIDER,
      `WhatsApp listed no devices for ${message.to}; nothing was sent`,
      true,
      "no-devices",
    );
  }
  return jid;
}

/** In a group, the jid of who sent the message this one points at (when it is not ours). */
function targetSender({ senders }: SendContext, message: Message, jid: string): string | undefined {
  const target = message.target;
  if (!target || target.fromMe || !isJidGroup(jid)) return undefined;
  // The jid the message itself named (a LID in a LID-addressed group) first: that is what the members match.
  const named = target.participant ? memberAddressToJid(target.participant) : undefined;
  return senders.of(target.providerMessageId) ?? named;
}
