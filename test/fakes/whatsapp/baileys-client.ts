import type { Agent } from "node:https";
import makeWASocket, { DisconnectReason, initAuthCreds } from "@whiskeysockets/baileys";
import type { proto } from "@whiskeysockets/baileys";
import type {
  AuthenticationCreds,
  AuthenticationState,
  BaileysEventMap,
  GroupMetadata,
  WAMessage,
  WASocket,
} from "@whiskeysockets/baileys";
import { silentLogger } from "./logger.ts";
import type { SimLogger } from "./logger.ts";
import { createMemoryKeyStore } from "./signal-peer.ts";

/** The WhatsApp Web version Baileys rc14 ships with; passing it avoids any network fetch. */
export const BAILEYS_WA_VERSION: [number, number, number] = [2, 3000, 1043857760];

export interface BareClientOptions {
  wsUrl: string;
  /** Existing auth (e.g. useMultiFileAuthState); fresh in-memory creds when absent. */
  auth?: AuthenticationState;
  /** Creds for an in-memory auth state (e.g. from `sim.provisionAccount()`). */
  creds?: AuthenticationCreds;
  /** Called on every creds.update (persist file-based auth here). */
  saveCreds?: () => Promise<void>;
  keepAliveIntervalMs?: number;
  defaultQueryTimeoutMs?: number;
  logger?: SimLogger;
  /** Agent for media uploads: `new https.Agent({ ca })` trusts the simulator's media CA. */
  fetchAgent?: Agent;
  /** Baileys' `cachedGroupMetadata`: answers here spare the metadata query before each group send. */
  cachedGroupMetadata?: (jid: string) => Promise<GroupMetadata | undefined>;
}

export type GroupEventName = "groups.upsert" | "groups.update" | "group-participants.update";

/** A group event Baileys emitted, as it emitted it. */
export type GroupEvent = { [E in GroupEventName]: { event: E; data: BaileysEventMap[E] } }[GroupEventName];

/**
 * A bare Baileys socket driven against the simulator, with the bookkeeping
 * tests and benchmarks need: last QR, message statuses (from both
 * messages.update and messages.upsert), received messages, close codes.
 * `connect()` opens a new socket on the same auth (a reconnect).
 */
export class BareClient {
  sock: WASocket | undefined;
  readonly auth: AuthenticationState;
  qr: string | undefined;
  isOpen = false;
  readonly statuses = new Map<string, number>();
  readonly received: WAMessage[] = [];
  readonly closeCodes: number[] = [];
  /**
   * Per-member receipts of group messages, by message id then member jid:
   * from message-receipt.update, and from the `userReceipt` of an upsert
   * (Baileys folds receipts into a sent message still in its event buffer).
   */
  readonly userReceipts = new Map<string, Map<string, proto.IUserReceipt>>();
  /** groups.upsert, groups.update and group-participants.update, in order. */
  readonly groupEvents: GroupEvent[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(private readonly opts: BareClientOptions) {
    this.auth = opts.auth ?? { creds: opts.creds ?? initAuthCreds(), keys: createMemoryKeyStore() };
  }

  connect(): WASocket {
    const sock = makeWASocket({
      auth: this.auth,
      waWebSocketUrl: this.opts.wsUrl,
      version: BAILEYS_WA_VERSION,
      logger: this.opts.logger ?? silentLogger,
      markOnlineOnConnect: false,
      syncFullHistory: false,
      connectTimeoutMs: 10_000,
      keepAliveIntervalMs: this.opts.keepAliveIntervalMs ?? 30_000,
      defaultQueryTimeoutMs: this.opts.defaultQueryTimeoutMs ?? 5_000,
      retryRequestDelayMs: 10,
      ...(this.opts.fetchAgent ? { fetchAgent: this.opts.fetchAgent } : {}),
      ...(this.opts.cachedGroupMetadata ? { cachedGroupMetadata: this.opts.cachedGroupMetadata } : {}),
    });
    this.sock = sock;
    this.isOpen = false;
    sock.ev.on("creds.update", () => void this.opts.saveCreds?.());
    sock.ev.on("connection.update", (update) => {
      if (sock !== this.sock) return;
      if (update.qr) this.qr = update.qr;
      if (update.connection === "open") this.isOpen = true;
      if (update.connection === "close") {
        this.isOpen = false;
        const error = update.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined;
        this.closeCodes.push(error?.output?.statusCode ?? DisconnectReason.connectionClosed);
      }
      this.notify();
    });
    sock.ev.on("messages.update", (updates) => {
      for (const { key, update } of updates)
        if (key.id && typeof update.status === "number") this.setStatus(key.id, update.status);
      this.notify();
    });
    sock.ev.on("message-receipt.update", (updates) => {
      for (const { key, receipt } of updates) this.userReceipt(key.id, receipt);
      this.notify();
    });
    sock.ev.on("groups.upsert", (data) => this.groupEvent({ event: "groups.upsert", data }));
    sock.ev.on("groups.update", (data) => this.groupEvent({ event: "groups.update", data }));
    sock.ev.on("group-participants.update", (data) => this.groupEvent({ event: "group-participants.update", data }));
    sock.ev.on("messages.upsert", ({ messages }) => {
      for (const message of messages) {
        for (const receipt of message.userReceipt ?? []) this.userReceipt(message.key.id, receipt);
        if (message.key.fromMe) {
          if (message.key.id && typeof message.status === "number") this.setStatus(message.key.id, message.status);
        } else {
          this.received.push(message);
        }
      }
      this.notify();
    });
    return sock;
  }

  private userReceipt(id: string | null | undefined, receipt: proto.IUserReceipt): void {
    if (!id || !receipt.userJid) return;
    let byUser = this.userReceipts.get(id);
    if (!byUser) this.userReceipts.set(id, (byUser = new Map()));
    byUser.set(receipt.userJid, { ...byUser.get(receipt.userJid), ...receipt });
  }

  private groupEvent(event: GroupEvent): void {
    this.groupEvents.push(event);
    this.notify();
  }

  private setStatus(id: string, status: number): void {
    this.statuses.set(id, Math.max(this.statuses.get(id) ?? 0, status));
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** Resolves with `check()`'s first non-undefined value, re-checked on every event. */
  waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
    const first = check();
    if (first !== undefined && first !== false) return Promise.resolve(first);
    return new Promise<T>((resolve, reject) => {
      const listener = (): void => {
        const value = check();
        if (value === undefined || value === false) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      // Also poll: some conditions change without a Baileys event.
      const poll = setInterval(listener, 25);
      const cleanup = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
        this.listeners.delete(listener);
      };
      this.listeners.add(listener);
    });
  }

  /** Resolves with the data of the first group event `event` (seen so far or to come) that `match` accepts. */
  waitForGroupEvent<E extends GroupEventName>(
    event: E,
    match: (data: BaileysEventMap[E]) => boolean = () => true,
    timeoutMs?: number,
  ): Promise<BaileysEventMap[E]> {
    const find = (): BaileysEventMap[E] | undefined => {
      for (const seen of this.groupEvents) {
        if (seen.event === event && match(seen.data as BaileysEventMap[E])) return seen.data as BaileysEventMap[E];
      }
      return undefined;
    };
    return this.waitFor(find, event, timeoutMs);
  }

  waitForOpen(timeoutMs?: number): Promise<true> {
    return this.waitFor(() => this.isOpen || undefined, "connection open", timeoutMs);
  }

  /** Resolves with the status code of the next close after `seen` closes. */
  waitForClose(seen = this.closeCodes.length, timeoutMs?: number): Promise<number> {
    return this.waitFor(() => this.closeCodes[seen], "connection close", timeoutMs);
  }

  /** Closes the current socket (no reconnect). */
  async end(): Promise<void> {
    const sock = this.sock;
    this.sock = undefined;
    if (!sock) return;
    sock.ev.removeAllListeners("connection.update");
    sock.end(undefined);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
