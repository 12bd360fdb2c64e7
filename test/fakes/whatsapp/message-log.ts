import type { ReceivedMedia } from "./media-verify.ts";
import type { DecodedContent, MessageKind } from "./message-decode.ts";

/** A message the simulator received from a linked account. */
export interface ReceivedMessage extends Omit<DecodedContent, "kind" | "text"> {
  id: string;
  /** Sender phone number (the linked account). */
  from: string;
  /**
   * Recipient phone number, or the raw jid when it is not a phone user.
   * A message addressed to the recipient's LID still names its phone here:
   * one chat, whichever way the client addressed it.
   */
  to: string;
  /** The recipient's LID jid (`digits@lid`), when the recipient is a user. */
  toLid?: string;
  /** How the client addressed the stanza: to the phone number's jid or to the LID. */
  addressing?: "pn" | "lid";
  /** Decrypted text (a caption, a reaction's emoji, an edit's new text); null when the message had none or could not be decrypted. */
  text: string | null;
  /** The stanza type: text, media, reaction... */
  type: string;
  /** What the decrypted message is; "text" also when it could not be decrypted. */
  kind: MessageKind;
  /** The media, decrypted and verified against the message's hashes and MAC. */
  media?: ReceivedMedia;
  /** Why the media failed verification (then there is no `media`). */
  mediaError?: string;
  /** The group's id (`1203630...`) when the message went to a group; `to` is then the group's jid. */
  group?: string;
  /** For a group message: phones of the members whose simulated phone decrypted it (the sender aside). */
  decryptedBy?: string[];
  /** Arrival time, epoch milliseconds. */
  at: number;
}

/** A receipt a linked account sent for a message it received. */
export interface ClientReceipt {
  id: string;
  from: string;
  to: string;
  /** "delivery" when the stanza had no type (or "inactive"), else its type (read, read-self, retry...). */
  type: string;
  at: number;
}

/** A presence or chat state a linked account sent (`sendPresenceUpdate`). */
export interface PresenceUpdate {
  /** The chat's phone number (or raw jid); null for `available`/`unavailable`, which go to everyone. */
  to: string | null;
  state: "composing" | "recording" | "paused" | "available" | "unavailable";
  at: number;
}

/** Counters per linked account. */
export interface AccountStats {
  /** Successful logins (each reconnect counts). */
  connections: number;
  online: boolean;
  messagesReceived: number;
  uniqueIds: number;
  duplicates: number;
  /** IQs the account's devices sent, by `xmlns:type:first child` (privacy:set:tokens...). */
  iqs: Record<string, number>;
  /** Group metadata queries (`w:g2` `query`: groupMetadata, and Baileys' lookup before a group send without a cache). */
  groupMetadataQueries: number;
}

interface AccountLog {
  connections: number;
  messages: ReceivedMessage[];
  receipts: ClientReceipt[];
  presence: PresenceUpdate[];
  ids: Set<string>;
  received: number;
  duplicates: number;
  iqs: Map<string, number>;
  groupMetadataQueries: number;
}

const MAX_KEPT = 50_000;

/** Everything the simulator observed per account, in arrival order, bounded. */
export class MessageLog {
  private readonly accounts = new Map<string, AccountLog>();

  private account(phone: string): AccountLog {
    let log = this.accounts.get(phone);
    if (!log) {
      log = {
        connections: 0,
        messages: [],
        receipts: [],
        presence: [],
        ids: new Set(),
        received: 0,
        duplicates: 0,
        iqs: new Map(),
        groupMetadataQueries: 0,
      };
      this.accounts.set(phone, log);
    }
    return log;
  }

  connected(phone: string): void {
    this.account(phone).connections++;
  }

  /** Records a message; returns true when its id was already seen from that account. */
  record(message: ReceivedMessage): boolean {
    const log = this.account(message.from);
    log.received++;
    const duplicate = log.ids.has(message.id);
    if (duplicate) log.duplicates++;
    else log.ids.add(message.id);
    log.messages.push(message);
    if (log.messages.length > MAX_KEPT) log.messages.shift();
    return duplicate;
  }

  /** Counts an IQ an account's device sent; `kind` is `xmlns:type:first child`. */
  iq(phone: string, kind: string): void {
    const iqs = this.account(phone).iqs;
    iqs.set(kind, (iqs.get(kind) ?? 0) + 1);
  }

  groupMetadataQuery(phone: string): void {
    this.account(phone).groupMetadataQueries++;
  }

  receipt(receipt: ClientReceipt): void {
    const log = this.account(receipt.from);
    log.receipts.push(receipt);
    if (log.receipts.length > MAX_KEPT) log.receipts.shift();
  }

  presence(phone: string, update: PresenceUpdate): void {
    const log = this.account(phone);
    log.presence.push(update);
    if (log.presence.length > MAX_KEPT) log.presence.shift();
  }

  presenceUpdates(phone: string): PresenceUpdate[] {
    return [...(this.accounts.get(phone)?.presence ?? [])];
  }

  messages(phone: string): ReceivedMessage[] {
    return [...(this.accounts.get(phone)?.messages ?? [])];
  }

  receipts(phone: string): ClientReceipt[] {
    return [...(this.accounts.get(phone)?.receipts ?? [])];
  }

  stats(isOnline: (phone: string) => boolean): Record<string, AccountStats> {
    const out: Record<string, AccountStats> = {};
    for (const [phone, log] of this.accounts) {
      out[phone] = {
        connections: log.connections,
        online: isOnline(phone),
        messagesReceived: log.received,
        uniqueIds: log.ids.size,
        duplicates: log.duplicates,
        iqs: Object.fromEntries(log.iqs),
        groupMetadataQueries: log.groupMetadataQueries,
      };
    }
    return out;
  }

  reset(): void {
    this.accounts.clear();
  }
}
