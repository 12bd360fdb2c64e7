import { ProviderError } from "../../../domain/errors.ts";
import type { GroupUpdate } from "../../../domain/group.ts";
import type { Message } from "../../../domain/message.ts";
import {
  BAILEYS_PROVIDER,
  type ContactLookup,
  type PresenceState,
  type SendProgress,
  type SendReceipt,
} from "../../../domain/ports/messaging-provider.port.ts";
import type { Logger } from "../../../domain/ports/logger.port.ts";
import type { ConnectionEvent, WhatsAppConnection } from "../../../domain/ports/whatsapp-connector.port.ts";
import { withTimeout } from "../../../domain/timeout.ts";
import type { MediaStore } from "../../../domain/ports/media-store.port.ts";
import { areJidsSameUser, jidNormalizedUser } from "@whiskeysockets/baileys";
import type { BaileysEventMap, BinaryNode, WAMessage, WASocket } from "@whiskeysockets/baileys";
import { addressToJid, groupAddressToJid, jidToAddress } from "./addresses.ts";
import type { GroupMetadataCache } from "./group-metadata-cache.ts";
import type { OwnIds } from "./group-members.ts";
import type { RecentGroupSenders } from "./group-senders.ts";
import { BaileysGroups } from "./groups.ts";
import type { StoreAuthState } from "./auth-state.ts";
import { toConnectionClosed } from "./disconnect-mapping.ts";
import type { MediaDownloads } from "./inbound-media.ts";
import { toInboundMessage } from "./inbound-mapping.ts";
import type { MediaTrust } from "./media-trust.ts";
import { ChatActions, storedLidForPn } from "./chat-actions.ts";
import type { ChatAddressing } from "./chat-addressing.ts";
import { sendOnSocket } from "./send-message.ts";
import { toProviderError } from "./send-errors.ts";
import { ServerAcks } from "./server-acks.ts";
import type { SessionWrites } from "./session-writes.ts";
import { toProviderStatus } from "./status-mapping.ts";

/** Baileys' QR lifetimes when `qrTimeout` is not set: the first ref 60 s, the next ones 20 s. */
const FIRST_QR_MS = 60_000;
const NEXT_QR_MS = 20_000;

export interface BaileysConnectionDeps {
  readonly session: string;
  readonly sock: WASocket;
  readonly auth: StoreAuthState;
  readonly writes: SessionWrites;
  readonly listener: (event: ConnectionEvent) => void;
  readonly logger: Logger;
  readonly ackTimeoutMs: number;
  /** How long requestPairingCode waits for the server to start the registration. */
  readonly registrationTimeoutMs: number;
  readonly qrTimeoutMs: number | undefined;
  readonly media: ConnectionMedia;
  /** Which chats are addressed by LID, so what we send lands in the chat the contact writes in. */
  readonly chats: ChatAddressing;
  /** The socket's group metadata (its `cachedGroupMetadata`); kept current by this connection's group events. */
  readonly groupCache: GroupMetadataCache;
  /** The session's recently received group messages' senders (outlives a connection). */
  readonly groupSenders: RecentGroupSenders;
}

/** What a connection needs for files: sent ones are read from the store, received ones downloaded. */
export interface ConnectionMedia {
  readonly store: MediaStore;
  /** How long an upload may make no progress, a download give no bytes, a re-upload go unanswered. */
  readonly timeoutMs: number;
  readonly trust: MediaTrust;
  /**
   * The session's newest connection: the one that asks the phone to upload
   * an expired file again, as the file may be opened (retried) after the
   * socket that received it closed.
   */
  readonly newestConnection: () => BaileysConnection | undefined;
}

/**
 * One Baileys socket behind the WhatsAppConnection port. Events reach the
 * listener in the order Baileys emitted them (an inbound message that needs
 * a LID lookup is not overtaken by the `close` after it); after `close`,
 * `end()` or `logout()` nothing more is delivered.
 */
export class BaileysConnection implements WhatsAppConnection {
  private state: "connecting" | "open" | "closed" = "connecting";
  /** Set by end(), logout() and once `close` is delivered. */
  private silenced = false;
  private qrCount = 0;
  /** The account's id as the connection opened with it (creds may not name it yet). */
  private me: string | undefined;
  private delivery: Promise<void> = Promise.resolve();
  private readonly acks: ServerAcks;
  private readonly registration: Promise<void>;
  private registrationSettle!: { resolve(): void; reject(error: Error): void };
  private readonly detachers: Array<() => void> = [];
  private readonly downloads: MediaDownloads;
  private readonly actions: ChatActions;

  constructor(private readonly deps: BaileysConnectionDeps) {
    this.acks = new ServerAcks(deps.ackTimeoutMs);
    this.actions = new ChatActions(deps.sock, deps.chats);
    this.groups = new BaileysGroups({
      sock: deps.sock,
      cache: deps.groupCache,
      own: () => this.ownIds(),
      pnForLid: this.pnForLid,
      assertOpen: () => this.assertOpen(),
      logger: deps.logger,
      session: deps.session,
    });
    const { media } = deps;
    this.downloads = {
      ...(media.trust.dispatcher ? { dispatcher: media.trust.dispatcher } : {}),
      idleTimeoutMs: media.timeoutMs,
      reupload: (message) => {
        const newest = media.newestConnection();
        if (!newest) {
          return Promise.reject(
            new ProviderError(BAILEYS_PROVIDER, "no WhatsApp connection of this session is open", true, "not-open"),
          );
        }
        return newest.reuploadMedia(message);
      },
    };
    this.registration = new Promise<void>((resolve, reject) => {
      this.registrationSettle = { resolve, reject };
    });
    this.registration.catch(() => undefined);
    this.on("connection.update", (update) => this.onConnectionUpdate(update));
    this.on("creds.update", (update) => {
      // Baileys merges the update into the same object before we get here;
      // merging again keeps this right whatever the listener order.
      Object.assign(deps.auth.creds, update);
      deps.auth.saveCreds();
    });
    this.on("messages.upsert", (upsert) => this.enqueue(() => this.onUpsert(upsert)));
    this.on("messages.update", (updates) => this.enqueue(() => this.onUpdate(updates)));
    this.on("group-participants.update", (event) => this.relayGroupUpdates(this.groups.participantsChanged(event)));
    this.on("groups.update", (changes) => this.relayGroupUpdates(this.groups.groupsChanged(changes)));
    const onAck = (node: BinaryNode): void => this.acks.onAck(node.attrs);
    deps.sock.ws.on("CB:ack,class:message", onAck);
    this.detachers.push(() => deps.sock.ws.off("CB:ack,class:message", onAck));
  }

  /** Sends a message of any kind in the recipient's chat; see `sendOnSocket`. */
  async send(message: Message, progress?: SendProgress): Promise<SendReceipt> {
    this.assertOpen();
    const { sock, chats, media, logger, session, groupSenders: senders } = this.deps;
    const groupJid = groupAddressToJid(message.to);
    return sendOnSocket(
      { sock, acks: this.acks, chats, media, logger, session, senders },
      message,
      groupJid ? { groupJid } : { pnJid: this.recipientJid(message.to) },
      progress,
    );
  }

  /**
   * Asks the sender's phone to upload a received message's file again (it
   * expired on WhatsApp's servers), on this socket; resolves with the
   * message pointing at the new copy. Any open socket of the login can ask,
   * not only the one that received the message.
   */
  async reuploadMedia(message: WAMessage): Promise<WAMessage> {
    this.assertOpen();
    const { sock } = this.deps;
    // Baileys builds the new copy's URL on the media host media_conn named;
    // a socket that never asked would use its built-in default host.
    await sock.refreshMediaConn(false);
    const ms = this.deps.media.timeoutMs;
    return withTimeout(
      sock.updateMediaMessage(message),
      ms,
      () => new ProviderError(BAILEYS_PROVIDER, `the phone did not upload the file again within ${ms} ms`, true, "408"),
    );
  }

  readonly groups: BaileysGroups;

  async markRead(providerMessageId: string, from: string, group?: string | null): Promise<void> {
    this.assertOpen();
    const jid = this.recipientJid(from);
    if (!providerMessageId) {
      throw new ProviderError(
        BAILEYS_PROVIDER,
        "a read mark needs the WhatsApp id of the message",
        false,
        "no-message-id",
      );
    }
    const groupJid = group ? groupAddressToJid(group) : undefined;
    if (group && !groupJid) {
      throw new ProviderError(BAILEYS_PROVIDER, `not a WhatsApp group: ${group}`, false, "invalid-recipient");
    }
    await this.act("read mark", () => this.actions.markRead(providerMessageId, jid, groupJid));
  }

  async presence(to: string, state: PresenceState): Promise<void> {
    this.assertOpen();
    const jid = this.recipientJid(to);
    await this.act("presence", () => this.actions.presence(jid, state));
  }

  async lookup(address: string): Promise<ContactLookup> {
    this.assertOpen();
    const jid = this.recipientJid(address);
    return this.act("lookup", () => this.actions.lookup(jid));
  }

  async requestPairingCode(phone: string): Promise<string> {
    const digits = phone.replace(/^\+/, "");
    if (!/^[1-9]\d{4,14}$/.test(digits)) {
      throw new ProviderError(
        BAILEYS_PROVIDER,
        "a pairing code needs the phone number as E.164 digits",
        false,
        "invalid-phone",
      );
    }
    if (this.deps.auth.creds.account) {
      throw new ProviderError(BAILEYS_PROVIDER, "this session is already linked", false, "already-linked");
    }
    if (this.state === "closed" || this.silenced) {
      throw new ProviderError(BAILEYS_PROVIDER, "the WhatsApp connection is closed", true, "not-open");
    }
    // The server must be in the registration phase (it sent QR refs) before
    // it takes a pairing-code request.
    const ms = this.deps.registrationTimeoutMs;
    await withTimeout(
      this.registration,
      ms,
      () => new ProviderError(BAILEYS_PROVIDER, `the server did not start a registration within ${ms} ms`, true, "408"),
    );
    try {
      return await this.deps.sock.requestPairingCode(digits);
    } catch (error) {
      throw toProviderError(error);
    }
  }

  /**
   * Unlinks the device, then ends the socket. Like `end()`, delivers no
   * `close`. Later store writes of this login are dropped and pending ones
   * awaited, so a wipe right after this cannot be undone by a late write.
   */
  async logout(): Promise<void> {
    this.silence();
    this.deps.auth.seal();
    try {
      await this.deps.sock.logout();
    } catch (error) {
      this.endSocket();
      throw toProviderError(error);
    } finally {
      await this.deps.writes.flush().catch(() => undefined);
    }
  }

  end(): void {
    this.silence();
    this.endSocket();
  }

  private assertOpen(): void {
    if (this.state !== "open" || this.silenced) {
      throw new ProviderError(BAILEYS_PROVIDER, "the WhatsApp connection is not open", true, "not-open");
    }
  }

  /** The phone-number jid of an address; a terminal error for anything else. */
  private recipientJid(address: string): string {
    const jid = addressToJid(address);
    if (!jid) {
      throw new ProviderError(BAILEYS_PROVIDER, `not a WhatsApp phone number: ${address}`, false, "invalid-recipient");
    }
    return jid;
  }

  /** Runs a chat action, its failure as a ProviderError (logged). */
  private async act<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      const failure = toProviderError(error);
      this.deps.logger.warn(
        { session: this.deps.session, err: failure.message, retryable: failure.retryable },
        `baileys: ${what} failed`,
      );
      throw failure;
    }
  }

  private onConnectionUpdate(update: BaileysEventMap["connection.update"]): void {
    if (update.qr) {
      const ttl = this.deps.qrTimeoutMs ?? (this.qrCount === 0 ? FIRST_QR_MS : NEXT_QR_MS);
      this.qrCount++;
      this.registrationSettle.resolve();
      const event: ConnectionEvent = { type: "qr", qr: update.qr, expiresAt: new Date(Date.now() + ttl) };
      this.enqueue(() => this.deliver(event));
    }
    if (update.connection === "open") {
      this.state = "open";
      const me = this.deps.sock.user?.id ?? this.deps.auth.creds.me?.id ?? "";
      this.me = me;
      this.enqueue(() => this.deliver({ type: "open", me }));
    }
    if (update.connection === "close") {
      this.state = "closed";
      const closed = toConnectionClosed(update.lastDisconnect);
      // A logged-out login is dead: no late write may outlive its wipe.
      if (closed.reason === "logged_out") this.deps.auth.seal();
      const gone = new ProviderError(
        BAILEYS_PROVIDER,
        `the WhatsApp connection closed (${closed.code} ${closed.message})`,
        true,
        String(closed.code),
      );
      this.acks.failAll(gone);
      this.registrationSettle.reject(gone);
      this.detach();
      this.enqueue(() => {
        this.deliver({ type: "close", closed });
        this.silenced = true;
      });
    }
  }

  private async onUpsert({ messages, type }: BaileysEventMap["messages.upsert"]): Promise<void> {
    for (const message of messages) {
      if (message.key.fromMe) {
        // A receipt that arrives right after the send is folded into our own upsert.
        const status = toProviderStatus(message.status);
        if (status && message.key.id) this.deliver({ type: "status", providerMessageId: message.key.id, status });
        continue;
      }
      if (type !== "notify" && type !== "append") continue;
      const mapped = await toInboundMessage(message, {
        to: jidToAddress(this.deps.auth.creds.me?.id) ?? jidToAddress(this.me) ?? "",
        pnForLid: this.pnForLid,
        lidForPn: (pn) => storedLidForPn(this.deps.sock.authState.keys, pn),
        now: () => new Date(),
        downloads: this.downloads,
      });
      if (mapped.kind === "message") {
        // Before the app hears of it: its answer must go to the chat this came in.
        if ("pnJid" in mapped.chat) this.deps.chats.note(mapped.chat.pnJid, mapped.chat.lidJid);
        else this.deps.groupSenders.note(mapped.message.providerMessageId, mapped.chat.participantJid);
        this.deliver({ type: "inbound", message: mapped.message });
      } else
        this.deps.logger.debug(
          { session: this.deps.session, waId: message.key.id, why: mapped.why },
          "baileys: upsert skipped",
        );
    }
  }

  private onUpdate(updates: BaileysEventMap["messages.update"]): void {
    for (const { key, update } of updates) {
      if (!key.fromMe || !key.id) continue;
      const status = toProviderStatus(update.status);
      if (status) this.deliver({ type: "status", providerMessageId: key.id, status });
    }
  }

  /** The number behind a LID; our own LID is not always in Baileys' lid-mapping store. */
  private readonly pnForLid = async (lid: string): Promise<string | null> => {
    const own = this.ownIds();
    if (own.pn && own.lid && areJidsSameUser(lid, own.lid)) return jidNormalizedUser(own.pn);
    return this.deps.sock.signalRepository.lidMapping.getPNForLID(lid);
  };

  /** Our phone-number jid and LID, as the login knows them. */
  private ownIds(): OwnIds {
    const me = this.deps.auth.creds.me;
    return { pn: me?.id ?? this.me, lid: me?.lid ?? this.deps.sock.user?.lid ?? undefined };
  }

  /** Reports group changes in turn with the other events (they are read at once, see BaileysGroups). */
  private relayGroupUpdates(updates: Promise<readonly GroupUpdate[]>): void {
    this.enqueue(async () => {
      for (const update of await updates) this.deliver({ type: "group", update });
    });
  }

  private deliver(event: ConnectionEvent): void {
    if (this.silenced) {
      if (event.type === "inbound") {
        this.deps.logger.warn(
          { session: this.deps.session, waId: event.message.providerMessageId },
          "baileys: inbound message dropped: connection already ended",
        );
      }
      return;
    }
    try {
      this.deps.listener(event);
    } catch (error) {
      this.deps.logger.error(
        { err: error, session: this.deps.session, event: event.type },
        "baileys: connection listener threw",
      );
    }
  }

  private enqueue(task: () => void | Promise<void>): void {
    this.delivery = this.delivery.then(task).catch((error: unknown) => {
      this.deps.logger.error({ err: error, session: this.deps.session }, "baileys: could not handle an event");
    });
  }

  private on<E extends keyof BaileysEventMap>(event: E, handler: (arg: BaileysEventMap[E]) => void): void {
    this.deps.sock.ev.on(event, handler);
    this.detachers.push(() => this.deps.sock.ev.off(event, handler));
  }

  private silence(): void {
    this.silenced = true;
    this.state = "closed";
    this.detach();
    const ended = new ProviderError(BAILEYS_PROVIDER, "the WhatsApp connection was ended", true, "ended");
    this.acks.failAll(ended);
    this.registrationSettle.reject(ended);
  }

  private detach(): void {
    for (const detach of this.detachers.splice(0)) detach();
  }

  private endSocket(): void {
    this.state = "closed";
    Promise.resolve(this.deps.sock.end(undefined)).catch((error: unknown) => {
      this.deps.logger.warn({ err: error, session: this.deps.session }, "baileys: error while ending the socket");
    });
  }
}
