import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WA_CERT_DETAILS } from "@whiskeysockets/baileys";
import { SimConnection } from "./connection.ts";
import { DEFAULT_RECEIPTS, TimerSet } from "./context.ts";
import type { ReceiptSettings, SimContext, UnknownIq } from "./context.ts";
import { createControlHandler } from "./control-http.ts";
import { ControlError } from "./errors.ts";
import { applyFault } from "./faults.ts";
import type { FaultRequest } from "./faults.ts";
import { silentLogger } from "./logger.ts";
import type { SimLogger } from "./logger.ts";
import { SimMedia } from "./media.ts";
import type { MediaFaultKind, MediaStats } from "./media-server.ts";
import { MessageLog } from "./message-log.ts";
import type { AccountStats, ClientReceipt, PresenceUpdate, ReceivedMessage } from "./message-log.ts";
import { Messaging } from "./messaging.ts";
import type { InboundRequest, ReceiptRequest } from "./messaging.ts";
import { createServerIdentity } from "./noise.ts";
import { PairingCodes } from "./pairing-code.ts";
import { Pairing } from "./pairing.ts";
import type { LinkResult } from "./pairing.ts";
import { provisionDevice } from "./provision.ts";
import type { ProvisionedAccount } from "./provision.ts";
import { normalizePhone, Registry } from "./registry.ts";
import { Sessions } from "./sessions.ts";
import { createWsServer } from "./transport.ts";
import { GroupChanges } from "./group-changes.ts";
import { GroupControl } from "./group-control.ts";
import type { GroupRequest, GroupUpdateRequest, ParticipantResult, ParticipantsRequest } from "./group-control.ts";
import { groupIqHandlers } from "./group-iq.ts";
import { Groups } from "./groups.ts";
import type { GroupInfo } from "./groups.ts";

export const WS_PATH = "/ws/chat";

export interface SimulatorOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  host?: string;
  /** Structured logs go here; quiet by default. */
  logger?: SimLogger;
  receipts?: Partial<ReceiptSettings>;
  /** One-way latency of the server's frames (a slow link): each leaves this long after it was made, in order. */
  frameDelayMs?: number;
  /** Let unknown devices log in (default true), e.g. after a simulator restart. */
  acceptUnknownDevices?: boolean;
  /** QR refs per registration (default 6: one 60 s QR then 20 s ones). */
  qrRefs?: number;
  /**
   * Make Baileys in THIS process trust the simulator's certificate root
   * (mutates `WA_CERT_DETAILS.PUBLIC_KEY`). Baileys rc14 does not need it.
   */
  trustRootInProcess?: boolean;
  /** Largest upload the media server takes (default 100 MiB; media_conn announces it). */
  maxMediaBytes?: number;
}

/** Whether a number has a WhatsApp account, as `POST /control/contacts` answers. */
export interface ContactInfo {
  phone: string;
  onWhatsApp: boolean;
  /** The number's LID jid; null when it is not on WhatsApp. */
  lid: string | null;
}

export interface SimulatorStats {
  accounts: Record<string, AccountStats>;
  unknownIqs: UnknownIq[];
  openConnections: number;
  media: MediaStats;
}

export interface LinkedAccountInfo {
  phone: string;
  lid: string;
  devices: Array<{ jid: string; lid: string; online: boolean; removed: boolean; preKeys: number }>;
}

/** A running simulator: URLs, lifecycle and the same operations as the control API. */
export interface WhatsAppSimulator {
  /** `ws://127.0.0.1:PORT/ws/chat`: Baileys' `waWebSocketUrl`. */
  readonly wsUrl: string;
  /** `http://127.0.0.1:PORT`: base of the `/control/...` routes. */
  readonly controlUrl: string;
  readonly port: number;
  /** Public key of the simulator's certificate root. */
  readonly rootPublicKey: Uint8Array;
  /**
   * Path of the PEM certificate of the CA that signed the media server's
   * certificate: trust it for uploads (`fetchAgent`) and downloads (`dispatcher`).
   */
  readonly caFile: string;
  /** `127.0.0.1:PORT` of the HTTPS media server (what media_conn announces). */
  readonly mediaHost: string;
  close(): Promise<void>;
  /** Links a new device without a QR; returns Baileys creds for it. */
  provisionAccount(opts?: { phone?: string; name?: string }): ProvisionedAccount;
  /** The simulated phone `phone` scans a QR string shown by a connected client. */
  scanQr(qr: string, phone: string): Promise<LinkResult>;
  /** The simulated phone `phone` enters a pairing code shown by a client. */
  enterPairingCode(phone: string, code: string): Promise<LinkResult>;
  /** Injects a fault; returns how many connections it hit. */
  fault(fault: FaultRequest): number;
  /** Closes every connection and refuses new ones for `seconds`. */
  outage(seconds: number): void;
  inbound(request: InboundRequest): Promise<{ id: string }>;
  /** The recipient of a message a linked account sent reports it delivered or read now, whatever `setReceipts` says. */
  receipt(request: ReceiptRequest): { devices: number };
  /**
   * The next `times` (default 1) messages linked account `phone` sends get a
   * negative ack with `code` (as WhatsApp refuses a message): not recorded, not
   * forwarded. Returns how many refusals are pending for that account.
   */
  refuse(phone: string, code: number, times?: number): { pending: number };
  setReceipts(settings: Partial<ReceiptSettings>): ReceiptSettings;
  setFrameDelay(ms: number): number;
  /** Messages received from linked account `phone`, in arrival order. */
  messages(phone: string): ReceivedMessage[];
  /** Receipts linked account `phone` sent for messages it received. */
  clientReceipts(phone: string): ClientReceipt[];
  /** Presence and chat states linked account `phone` sent (`sendPresenceUpdate`), in order. */
  presence(phone: string): PresenceUpdate[];
  /**
   * Makes a number known or unknown to WhatsApp: usync then answers that it
   * has no account (Baileys' `onWhatsApp` leaves it out) and it cannot send.
   * Every number is on WhatsApp until told otherwise; `reset()` restores that.
   */
  setContact(phone: string, onWhatsApp: boolean): ContactInfo;
  /**
   * Creates a group as if its creator made it on a phone: linked accounts
   * among the members get the `w:gp2` create notification.
   */
  createGroup(request: GroupRequest): GroupInfo;
  groups(): GroupInfo[];
  /** One group by id or jid (404 when unknown). */
  group(id: string): GroupInfo;
  /** Adds, removes, promotes, demotes members; members' linked devices get the notifications. */
  updateParticipants(id: string, request: ParticipantsRequest): { results: ParticipantResult[]; group: GroupInfo };
  /** Changes the subject and/or description, notifying members. */
  updateGroup(id: string, request: GroupUpdateRequest): GroupInfo;
  /** Resolves once `phone` has sent at least `count` messages (rejects after `timeoutMs`). */
  waitForMessages(phone: string, count: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  stats(): SimulatorStats;
  accounts(): LinkedAccountInfo[];
  /**
   * Downloads of the media whose plaintext SHA-256 (hex) is `sha256`, or of
   * all media, answer 410 until the phone uploads it again. Returns how many blobs.
   */
  expireMedia(sha256?: string): { expired: number };
  /** The next `times` (default 1) uploads to the media server get `kind`; returns how many are pending. */
  mediaFault(kind: MediaFaultKind, times?: number): { pending: number };
  /**
   * Clears recorded messages, receipts, presence, stats, faults settings,
   * refusals, outage and numbers made unknown to WhatsApp; keeps accounts and media.
   */
  reset(): void;
}

/** Starts a simulator on loopback. Close it with `close()`. */
export async function startWhatsAppSimulator(options: SimulatorOptions = {}): Promise<WhatsAppSimulator> {
  const logger = options.logger ?? silentLogger;
  const media = await SimMedia.start({ maxBytes: options.maxMediaBytes ?? 100 * 1024 * 1024, logger });
  const ctx: SimContext = {
    registry: new Registry(),
    log: new MessageLog(),
    logger,
    identity: createServerIdentity(),
    media,
    timers: new TimerSet(),
    unknownIqs: [],
    receipts: { ...DEFAULT_RECEIPTS, ...options.receipts },
    frameDelayMs: options.frameDelayMs ?? 0,
    outageUntil: 0,
    acceptUnknownDevices: options.acceptUnknownDevices ?? true,
    qrRefs: options.qrRefs ?? 6,
    refusals: new Map(),
  };
  if (options.trustRootInProcess) WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(ctx.identity.rootKey.public);
  const pairing = new Pairing(ctx);
  const codes = new PairingCodes(ctx, pairing);
  const groups = new Groups();
  const changes = new GroupChanges(ctx, groups);
  const messaging = new Messaging(ctx, groups);
  const sessions = new Sessions(ctx, pairing, messaging, {
    ...codes.iqHandlers(),
    ...groupIqHandlers(ctx, groups, changes),
  });
  const groupControl = new GroupControl(ctx, groups, changes);
  const wss = await createWsServer();
  const server = createServer();
  const host = options.host ?? "127.0.0.1";

  server.on("upgrade", (req, socket, head) => {
    if (new URL(req.url ?? "/", "http://localhost").pathname !== WS_PATH) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (Date.now() < ctx.outageUntil) {
        ws.close(1011, "outage");
        return;
      }
      sessions.connections.add(new SimConnection(ws, ctx, sessions));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  }).catch(async (err: unknown) => {
    await media.close();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  const isOnline = (phone: string): boolean => !!ctx.registry.findByPhone(phone)?.activeDevices.some((d) => d.online);
  let closed = false;

  const sim: WhatsAppSimulator = {
    wsUrl: `ws://${host}:${port}${WS_PATH}`,
    controlUrl: `http://${host}:${port}`,
    port,
    rootPublicKey: ctx.identity.rootKey.public,
    caFile: media.caFile,
    mediaHost: media.server.host,
    async close() {
      if (closed) return;
      closed = true;
      ctx.timers.clear();
      for (const conn of sessions.connections) conn.close(true);
      // ws calls back only once every client is gone, and a socket still in
      // its handshake, or one a client never closes, would keep it waiting.
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
      await media.close();
    },
    provisionAccount(opts = {}) {
      const phone = opts.phone === undefined ? randomPhone() : normalizePhone(opts.phone);
      if (!phone) throw new ControlError(400, "phone must be a phone number");
      return provisionDevice(ctx.registry.user(phone), opts.name);
    },
    scanQr: (qr, phone) => pairing.scan(qr, phone),
    enterPairingCode: (phone, code) => codes.enter(phone, code),
    fault(fault) {
      const phone = fault.phone === undefined ? undefined : normalizePhone(fault.phone);
      if (fault.phone !== undefined && !phone) throw new ControlError(400, "phone must be a phone number");
      const targets = sessions.select(phone);
      for (const conn of targets) applyFault(conn, fault);
      ctx.logger.info({ ...fault, affected: targets.length }, "fault injected");
      return targets.length;
    },
    outage(seconds) {
      ctx.outageUntil = Date.now() + seconds * 1000;
      for (const conn of sessions.connections) conn.close();
      ctx.logger.info({ seconds }, "outage started");
    },
    inbound: (request) => messaging.inbound(request),
    receipt: (request) => messaging.receipt(request),
    refuse(phone, code, times = 1) {
      const normalized = normalizePhone(phone);
      if (!normalized) throw new ControlError(400, "phone must be a phone number");
      const pending = ctx.refusals.get(normalized) ?? [];
      for (let i = 0; i < times; i++) pending.push(code);
      ctx.refusals.set(normalized, pending);
      return { pending: pending.length };
    },
    setReceipts(settings) {
      ctx.receipts = { ...ctx.receipts, ...settings };
      return { ...ctx.receipts };
    },
    setFrameDelay(ms) {
      ctx.frameDelayMs = ms;
      return ms;
    },
    messages: (phone) => ctx.log.messages(phone),
    clientReceipts: (phone) => ctx.log.receipts(phone),
    presence: (phone) => ctx.log.presenceUpdates(phone),
    setContact(phone, onWhatsApp) {
      const normalized = normalizePhone(phone);
      if (!normalized) throw new ControlError(400, "phone must be a phone number");
      if (!onWhatsApp && ctx.registry.findByPhone(normalized)?.activeDevices.length) {
        throw new ControlError(409, `${normalized} is a linked account`);
      }
      ctx.registry.setOnWhatsApp(normalized, onWhatsApp);
      return { phone: normalized, onWhatsApp, lid: onWhatsApp ? ctx.registry.user(normalized).lidJid : null };
    },
    async waitForMessages(phone, count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const list = ctx.log.messages(phone);
        if (list.length >= count) return list;
        if (Date.now() > deadline) throw new Error(`timed out: ${list.length}/${count} messages from ${phone}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    createGroup: (request) => groupControl.create(request),
    groups: () => groupControl.list(),
    group: (id) => groupControl.get(id),
    updateParticipants: (id, request) => groupControl.participants(id, request),
    updateGroup: (id, request) => groupControl.update(id, request),
    stats: () => ({
      accounts: ctx.log.stats(isOnline),
      unknownIqs: [...ctx.unknownIqs],
      openConnections: sessions.connections.size,
      media: media.stats,
    }),
    accounts: () =>
      ctx.registry.linkedUsers().map((user) => ({
        phone: user.phone,
        lid: user.lidJid,
        devices: [...user.devices.values()].map((d) => ({
          jid: d.jid,
          lid: d.lidJid,
          online: d.online,
          removed: d.removed,
          preKeys: d.preKeys.length,
        })),
      })),
    expireMedia: (sha256) => ({ expired: media.expire(sha256) }),
    mediaFault: (kind, times) => ({ pending: media.fault(kind, times) }),
    reset() {
      ctx.log.reset();
      media.reset();
      ctx.unknownIqs.length = 0;
      ctx.receipts = { ...DEFAULT_RECEIPTS, ...options.receipts };
      ctx.frameDelayMs = options.frameDelayMs ?? 0;
      ctx.outageUntil = 0;
      ctx.refusals.clear();
      ctx.registry.resetOnWhatsApp();
      for (const conn of sessions.connections) conn.silent = false;
    },
  };
  server.on("request", createControlHandler(sim));
  return sim;
}

let phoneCounter = 0;

/** A fresh, valid-looking phone number (E.164 digits, fictional 555 range). */
function randomPhone(): string {
  phoneCounter = (phoneCounter + 1) % 10_000;
  const stamp = (Date.now() % 1_000_000).toString().padStart(6, "0");
  return `1555${stamp}${phoneCounter.toString().padStart(4, "0")}`;
}
