import type { Logger } from "../../../domain/ports/logger.port.ts";
import type { SessionStore } from "../../../domain/ports/session-store.port.ts";
import { jidDecode } from "@whiskeysockets/baileys";
import { BoundedCache } from "../../shared/bounded-cache.ts";
import type { SessionWrites } from "./session-writes.ts";

/** Store key of a LID-addressed chat: `chat-lid-<phone digits>`, its value the LID's digits. */
const KEY_PREFIX = "chat-lid-";
/**
 * Chats whose addressing is kept in memory; past this the least recently
 * used is read from the store again when next needed.
 */
export const MAX_CHATS_IN_MEMORY = 5_000;

/**
 * How each 1:1 chat is addressed: by the contact's phone number
 * (`<digits>@s.whatsapp.net`) or by its LID (`<digits>@lid`), as the
 * contact's own messages last addressed it. Everything we send in a chat
 * (messages, read marks, typing) goes the same way, so our phone and our
 * other linked devices file it in that one chat:
 * - a chat the contact writes by LID answered by phone number shows up as a
 *   second chat on our WhatsApp Web and desktop, and WhatsApp may refuse a
 *   phone-addressed message to a contact that moved to LID (error 463);
 * - a chat addressed by phone number answered by LID makes the same second
 *   chat the other way.
 * A chat we start is addressed by phone number (what Baileys does with a
 * number, and what WhatsApp shows as the contact's number on our phone).
 *
 * The LID-addressed chats are kept in the session's store beside the login,
 * so a restart answers in the same chat. Baileys keeps the phone-LID mapping
 * itself (its `lid-mapping` keys); this only records which address a chat uses.
 */
export class ChatAddressing {
  /** Phone digits -> LID digits (LID-addressed) or null (by phone number); absent: not known yet. */
  private readonly chats = new BoundedCache<string | null>({
    maxEntries: MAX_CHATS_IN_MEMORY,
    ttlMs: Number.POSITIVE_INFINITY,
  });
  /** The same, as the store holds it (read or written by us). */
  private readonly stored = new BoundedCache<string | null>({
    maxEntries: MAX_CHATS_IN_MEMORY,
    ttlMs: Number.POSITIVE_INFINITY,
  });
  /** Store writes, one at a time, so a later note always lands last. */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      readonly store: SessionStore;
      readonly writes: SessionWrites;
      /** True once the login is logged out: nothing more is written. */
      readonly sealed: () => boolean;
      readonly logger: Logger;
    },
  ) {}

  /** How many chats' addressing is held in memory (at most MAX_CHATS_IN_MEMORY). */
  get chatsInMemory(): number {
    return Math.max(this.chats.size, this.stored.size);
  }

  /** The jid to send to in the chat with the phone-number jid `pnJid`: its LID when the chat is LID-addressed. */
  async chatJid(pnJid: string): Promise<string> {
    const phone = jidDecode(pnJid)?.user;
    if (!phone) return pnJid;
    let lid = this.chats.get(phone);
    if (lid === undefined) {
      const stored = await this.read(phone);
      // A note() made while the store was read is newer than what it held.
      const noted = this.chats.get(phone);
      lid = noted === undefined ? stored : noted;
      this.chats.set(phone, lid);
    }
    return lid ? `${lid}@lid` : pnJid;
  }

  /**
   * Records how the contact `pnJid` addressed the message it just sent:
   * from its LID `lidJid`, or by phone number (`lidJid` undefined). Takes
   * effect at once; the store write follows (a failure is logged: after a
   * restart the chat is then addressed as the store last knew it).
   */
  note(pnJid: string, lidJid: string | undefined): void {
    const phone = jidDecode(pnJid)?.user;
    if (!phone) return;
    const lid = lidJid === undefined ? null : (jidDecode(lidJid)?.user ?? null);
    if (this.chats.get(phone) === lid) return;
    this.chats.set(phone, lid);
    const { writes, logger } = this.deps;
    const saved = this.saving.then(() => this.save(phone, lid));
    this.saving = saved.catch(() => undefined);
    writes.track(saved).catch((error: unknown) => {
      logger.warn({ err: error, session: writes.session }, "baileys: could not save how a chat is addressed");
    });
  }

  /**
   * Writes a chat's addressing as noted, unless the store already holds it
   * (most chats have no entry at all). Writes run in the order of the notes,
   * so the last note lands last.
   */
  private async save(phone: string, lid: string | null): Promise<void> {
    if (this.deps.sealed()) return;
    const known = this.stored.get(phone);
    const before = known !== undefined ? known : await this.read(phone);
    if (before === lid || this.deps.sealed()) return;
    await this.deps.store.setMany(this.deps.writes.session, new Map([[KEY_PREFIX + phone, lid]]));
    this.stored.set(phone, lid);
  }

  /** The stored LID of a chat, null when it is addressed by phone number. */
  private async read(phone: string): Promise<string | null> {
    const key = KEY_PREFIX + phone;
    let lid: string | null = null;
    try {
      const value = (await this.deps.store.getMany(this.deps.writes.session, [key])).get(key);
      lid = typeof value === "string" && /^\d+$/.test(value) ? value : null;
    } catch (error) {
      // An unreadable entry only costs the chat its LID addressing: the phone number still reaches the contact.
      this.deps.logger.warn(
        { err: error, session: this.deps.writes.session },
        "baileys: how a chat is addressed could not be read; using the phone number",
      );
    }
    if (!this.stored.has(phone)) this.stored.set(phone, lid);
    return lid;
  }
}
