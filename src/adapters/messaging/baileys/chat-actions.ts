import { ProviderError } from "../../../domain/errors.ts";
import {
  BAILEYS_PROVIDER,
  type ContactLookup,
  type PresenceState,
} from "../../../domain/ports/messaging-provider.port.ts";
import { jidDecode, jidNormalizedUser } from "@whiskeysockets/baileys";
import type { SignalKeyStore, WASocket } from "@whiskeysockets/baileys";
import { jidToAddress } from "./addresses.ts";
import type { ChatAddressing } from "./chat-addressing.ts";

/**
 * What a connection does in a chat besides sending messages: read marks,
 * typing, and asking whether a number has WhatsApp. Read marks and typing go
 * to the chat as it is addressed (see ChatAddressing), like our messages.
 * Errors are Baileys' own; the connection turns them into ProviderErrors.
 */
export class ChatActions {
  constructor(
    private readonly sock: WASocket,
    private readonly chats: ChatAddressing,
  ) {}

  /**
   * Sends a read receipt for a received message (the sender sees blue
   * ticks). Baileys sends `read`, or `read-self` when the account turned
   * read receipts off (then only our own devices learn it).
   */
  async markRead(providerMessageId: string, senderPnJid: string, groupJid?: string): Promise<void> {
    if (groupJid) {
      // In a group the message is the group's; WhatsApp names it by its sender too.
      await this.sock.readMessages([
        { remoteJid: groupJid, id: providerMessageId, fromMe: false, participant: senderPnJid },
      ]);
      return;
    }
    const remoteJid = await this.chats.chatJid(senderPnJid);
    await this.sock.readMessages([{ remoteJid, id: providerMessageId, fromMe: false }]);
  }

  /**
   * Shows typing, recording or nothing in the chat. No presence
   * subscription first: that asks for the contact's presence, which the
   * gateway does not show, and typing reaches the chat without it.
   */
  async presence(pnJid: string, state: PresenceState): Promise<void> {
    await this.sock.sendPresenceUpdate(state, await this.chats.chatJid(pnJid));
  }

  /**
   * Whether the number has WhatsApp (a usync `contact` query), and its LID:
   * rc14's `onWhatsApp` no longer returns LIDs, so it comes from the
   * lid-mapping store, which asks WhatsApp (usync `lid`) when it does not
   * know the number yet and keeps the answer.
   */
  async lookup(pnJid: string): Promise<ContactLookup> {
    const address = jidToAddress(pnJid)!;
    const found = await this.sock.onWhatsApp(pnJid);
    // rc14 answers a query that timed out with nothing rather than an error: that is no "no".
    if (!found) throw new ProviderError(BAILEYS_PROVIDER, "WhatsApp did not answer the lookup", true, "408");
    const onWhatsApp = found.some((entry) => entry.exists);
    if (!onWhatsApp) return { address, onWhatsApp, lid: null };
    const lid = await this.sock.signalRepository.lidMapping.getLIDForPN(pnJid);
    return { address, onWhatsApp, lid: lid ? jidNormalizedUser(lid) : null };
  }
}

/**
 * The LID jid (`<digits>@lid`) that Baileys' lid-mapping store holds for a
 * phone-number jid, or null, without asking WhatsApp (its `getLIDForPN`
 * would send a usync query for an unknown number): read from the store's
 * `lid-mapping` keys, `<phone digits>` -> `<LID digits>`.
 */
export async function storedLidForPn(keys: SignalKeyStore, pnJid: string): Promise<string | null> {
  const phone = jidDecode(pnJid)?.user;
  if (!phone) return null;
  const found = await keys.get("lid-mapping", [phone]);
  const lid = found[phone];
  return typeof lid === "string" && lid ? `${lid}@lid` : null;
}
