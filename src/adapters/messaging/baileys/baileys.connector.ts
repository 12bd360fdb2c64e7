import type { Logger } from "../../../domain/ports/logger.port.ts";
import type { MediaStore } from "../../../domain/ports/media-store.port.ts";
import type { SessionStore } from "../../../domain/ports/session-store.port.ts";
import type {
  ConnectionEvent,
  WhatsAppConnection,
  WhatsAppConnector,
} from "../../../domain/ports/whatsapp-connector.port.ts";
import makeWASocket, { DEFAULT_CONNECTION_CONFIG, makeCacheableSignalKeyStore, proto } from "@whiskeysockets/baileys";
import type { UserFacingSocketConfig } from "@whiskeysockets/baileys";
import { loadAuthState } from "./auth-state.ts";
import { BaileysConnection } from "./baileys-connection.ts";
import { ChatAddressing } from "./chat-addressing.ts";
import { GroupMetadataCache } from "./group-metadata-cache.ts";
import { prepareFirstPreKeys } from "./prekeys.ts";
import { RecentGroupSenders } from "./group-senders.ts";
import { baileysLogger } from "./connector-logger.ts";
import { assertCertificate, mediaTrustFor, type MediaTrust } from "./media-trust.ts";
import { SessionWrites } from "./session-writes.ts";
import { socketCaches } from "./socket-caches.ts";

export interface BaileysConnectorOptions {
  /** Where each session's login (creds and Signal keys) lives. */
  readonly store: SessionStore;
  readonly logger: Logger;
  /**
   * WhatsApp Web endpoint; default Baileys' own (`wss://web.whatsapp.com/ws/chat`).
   * A testing setting: point it at the simulator.
   */
  readonly waWebSocketUrl?: string;
  readonly keepAliveIntervalMs?: number;
  readonly connectTimeoutMs?: number;
  readonly defaultQueryTimeoutMs?: number;
  /** Level of Baileys' own logs (default `warn`): its debug output can carry key material. */
  readonly baileysLogLevel?: string;
  /** How long `send()` waits for the server's ack (default 30 s). */
  readonly ackTimeoutMs?: number;
  /** Lifetime of every QR code; default Baileys' own (60 s for the first, 20 s for the next). Tests shorten it. */
  readonly qrTimeoutMs?: number;
  /** Where the files of outbound messages are read from. */
  readonly media: MediaStore;
  /**
   * A CA certificate (PEM) that WhatsApp's media hosts are trusted under,
   * besides the default ones. A testing setting (WA_MEDIA_CA_FILE): the
   * simulator's media server has a certificate of its own CA.
   */
  readonly mediaCa?: string | Buffer;
  /**
   * How long a media upload may make no progress, a download give no bytes,
   * and the phone take to upload an expired file again (default 60 s).
   */
  readonly mediaTimeoutMs?: number;
}

const DEFAULT_ACK_TIMEOUT_MS = 30_000;
const DEFAULT_MEDIA_TIMEOUT_MS = 60_000;

/**
 * The only history syncs we take: the small bootstrap ones, which carry the
 * phone-number <-> LID mappings (rc14 warns that refusing every sync loses
 * them). Recent, full and on-demand history stay off; refusing RECENT also
 * spares a new login Baileys' 20 s wait for history.
 */
const BOOTSTRAP_SYNC: ReadonlySet<number> = new Set([
  proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP,
  proto.HistorySync.HistorySyncType.PUSH_NAME,
]);

/**
 * WhatsApp Web through `@whiskeysockets/baileys`: one `connect()` is one
 * socket on the session's stored login; it never reconnects by itself.
 * Baileys runs with its built-in WhatsApp Web version (nothing is fetched),
 * without history sync (but for the bootstrap part, see BOOTSTRAP_SYNC) and
 * without marking the account online.
 */
export class BaileysConnector implements WhatsAppConnector {
  private readonly writes = new Map<string, SessionWrites>();
  /** Each session's newest connection; weak, so a session that is gone keeps nothing alive. */
  private readonly newest = new Map<string, WeakRef<BaileysConnection>>();
  private trust: Promise<MediaTrust> | undefined;
  private readonly groupSenders = new Map<string, RecentGroupSenders>();

  constructor(private readonly options: BaileysConnectorOptions) {
    if (options.mediaCa !== undefined) assertCertificate(options.mediaCa);
  }

  async connect(session: string, listener: (event: ConnectionEvent) => void): Promise<WhatsAppConnection> {
    const { store, logger } = this.options;
    const writes = this.writesOf(session);
    // The previous socket's writes (the creds saved at pairing, before its
    // 515) must be in the store before this socket reads it.
    await writes.flush();
    const auth = await loadAuthState(store, writes, logger);
    // Before the socket: its first open would otherwise make 812 prekeys in one synchronous loop.
    await prepareFirstPreKeys(auth, session, logger);
    const libLogger = baileysLogger(logger, session, this.options.baileysLogLevel ?? "warn");
    const trust = await (this.trust ??= mediaTrustFor(this.options.mediaCa, logger));
    // Baileys asks this before every message to a group; the connection keeps it current.
    const groupCache = new GroupMetadataCache((jid) => sock.groupMetadata(jid));
    const { signalKeys, ...caches } = socketCaches();
    const sock = makeWASocket({
      ...this.socketTimings(),
      auth: { creds: auth.creds, keys: makeCacheableSignalKeyStore(auth.keys, libLogger, signalKeys) },
      ...caches,
      logger: libLogger,
      waWebSocketUrl: this.options.waWebSocketUrl ?? DEFAULT_CONNECTION_CONFIG.waWebSocketUrl,
      version: DEFAULT_CONNECTION_CONFIG.version,
      markOnlineOnConnect: false,
      syncFullHistory: false,
      shouldSyncHistoryMessage: ({ syncType }) => BOOTSTRAP_SYNC.has(syncType ?? -1),
      generateHighQualityLinkPreview: false,
      cachedGroupMetadata: (jid) => groupCache.get(jid),
      ...(trust.fetchAgent ? { fetchAgent: trust.fetchAgent } : {}),
    });
    logger.info({ session, newLogin: auth.isNew }, "baileys: socket opened");
    const connection = new BaileysConnection({
      session,
      sock,
      auth,
      writes,
      listener,
      logger,
      ackTimeoutMs: this.options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS,
      registrationTimeoutMs: this.options.connectTimeoutMs ?? DEFAULT_CONNECTION_CONFIG.connectTimeoutMs,
      qrTimeoutMs: this.options.qrTimeoutMs,
      media: {
        store: this.options.media,
        timeoutMs: this.options.mediaTimeoutMs ?? DEFAULT_MEDIA_TIMEOUT_MS,
        trust,
        newestConnection: () => this.newest.get(session)?.deref(),
      },
      chats: new ChatAddressing({ store, writes, sealed: () => auth.isSealed(), logger }),
      groupCache,
      groupSenders: this.sendersOf(session),
    });
    this.newest.set(session, new WeakRef(connection));
    return connection;
  }

  /** Waits for the store writes of every session (the gateway is shutting down). */
  async flush(): Promise<void> {
    const results = await Promise.allSettled([...this.writes.values()].map((w) => w.flush()));
    for (const result of results) {
      if (result.status === "rejected")
        this.options.logger.error({ err: result.reason }, "baileys: a login write could not be saved at shutdown");
    }
  }

  async forget(session: string): Promise<void> {
    await this.writes
      .get(session)
      ?.flush()
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error, session }, "baileys: a write of a removed session could not be saved"),
      );
    this.writes.delete(session);
    this.newest.delete(session);
    this.groupSenders.delete(session);
  }

  /** Only the timings that were set: an explicit undefined would override Baileys' defaults. */
  private socketTimings(): Partial<UserFacingSocketConfig> {
    const { keepAliveIntervalMs, connectTimeoutMs, defaultQueryTimeoutMs, qrTimeoutMs } = this.options;
    return {
      ...(keepAliveIntervalMs !== undefined ? { keepAliveIntervalMs } : {}),
      ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
      ...(defaultQueryTimeoutMs !== undefined ? { defaultQueryTimeoutMs } : {}),
      ...(qrTimeoutMs !== undefined ? { qrTimeout: qrTimeoutMs } : {}),
    };
  }

  private sendersOf(session: string): RecentGroupSenders {
    let senders = this.groupSenders.get(session);
    if (!senders) this.groupSenders.set(session, (senders = new RecentGroupSenders()));
    return senders;
  }

  private writesOf(session: string): SessionWrites {
    let writes = this.writes.get(session);
    if (!writes)
      this.writes.set(session, (writes = new SessionWrites(this.options.store, session, this.options.logger)));
    return writes;
  }
}
