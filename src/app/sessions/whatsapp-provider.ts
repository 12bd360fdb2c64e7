import { DomainError, ProviderError } from "../../domain/errors.ts";
import type { Message } from "../../domain/message.ts";
import { systemClock, type Clock } from "../../domain/ports/clock.port.ts";
import type { Logger } from "../../domain/ports/logger.port.ts";
import {
  BAILEYS_PROVIDER,
  type MessagingProvider,
  type ProviderEvent,
  type SendProgress,
  type ProviderEventListener,
  type SendReceipt,
  type SessionControl,
  type ConversationControl,
} from "../../domain/ports/messaging-provider.port.ts";
import type { SessionStore } from "../../domain/ports/session-store.port.ts";
import type { GroupControl } from "../../domain/ports/group-control.port.ts";
import type { WhatsAppConnection, WhatsAppConnector } from "../../domain/ports/whatsapp-connector.port.ts";
import { isValidSessionId, type SessionInfo } from "../../domain/session.ts";
import type { ReconnectSettings } from "./reconnect-policy.ts";
import { ConnectPacer } from "./connect-pacer.ts";
import { SessionSupervisor, type RecoveryRecord } from "./session-supervisor.ts";

/** Restarts after pairing start this far apart when several come at once (ConnectPacer.spaced). */
const RESTART_SPACING_MS = 200;

/** Marks a session as existing in the store before it ever linked (the login itself has other keys). */
export const SESSION_MARKER_KEY = "gateway.session";

export interface WhatsAppProviderOptions {
  readonly connector: WhatsAppConnector;
  readonly store: SessionStore;
  readonly logger: Logger;
  readonly settings: ReconnectSettings;
  /** Session created at start when the store holds none; empty disables it. */
  readonly defaultSession: string;
  /**
   * Most sessions `create` lets exist (MAX_SESSIONS). Each one holds a socket
   * and its login in memory, so an API key must not be able to add them
   * without bound. Sessions found in the store are always started: a lower
   * limit never leaves a stored login unserved.
   */
  readonly maxSessions?: number;
  /**
   * Messages to one recipient in flight at once (WA_SEND_WINDOW, default 1):
   * each goes on the socket once the one before it is there, without waiting
   * for the server's ack of it.
   */
  readonly sendWindow?: number;
  /** How often the store is checked for sessions that appeared after start (default 30 s). */
  readonly discoveryIntervalMs?: number;
  readonly random?: () => number;
  /** Time for the sessions' records and recoveries (default: the system clock). */
  readonly clock?: Clock;
  readonly onRecovery?: (record: RecoveryRecord) => void;
  /**
   * Sockets opened a second across all sessions, after a burst of as many
   * (WA_CONNECTS_PER_SECOND; 0 or absent: unpaced): a mass reconnect is
   * spread over seconds instead of reaching the server in one instant.
   */
  readonly connectsPerSecond?: number;
}

/**
 * WhatsApp as a MessagingProvider: any number of sessions (linked accounts),
 * each supervised on its own, with their logins in the SessionStore.
 */
export class WhatsAppProvider implements MessagingProvider, SessionControl {
  readonly id = BAILEYS_PROVIDER;
  readonly channels = ["whatsapp"] as const;
  readonly sessions: SessionControl = this;
  readonly groups: GroupControl = {
    list: (session) => this.connection(session).groups.list(),
    get: (session, groupId) => this.connection(session).groups.get(groupId),
    create: (session, subject, participants) => this.connection(session).groups.create(subject, participants),
    changeParticipants: (session, groupId, change) =>
      this.connection(session).groups.changeParticipants(groupId, change),
    update: (session, groupId, change) => this.connection(session).groups.update(groupId, change),
    leave: (session, groupId) => this.connection(session).groups.leave(groupId),
    inviteLink: (session, groupId) => this.connection(session).groups.inviteLink(groupId),
  };
  readonly conversations: ConversationControl = {
    markRead: (message) =>
      this.connection(message.session).markRead(message.providerMessageId ?? "", message.from ?? "", message.group),
    presence: (session, to, state) => this.connection(session).presence(to, state),
    lookup: (session, address) => this.connection(session).lookup(address),
  };
  readonly sendWindow: number;
  private readonly supervisors = new Map<string, SessionSupervisor>();
  private readonly listeners = new Set<ProviderEventListener>();
  /** Sessions being deleted: discovery must not start them again meanwhile. */
  private readonly removing = new Set<string>();
  /** Sessions `create` is making (awaiting the store): they count against the limit, and discovery leaves them alone. */
  private readonly creating = new Set<string>();
  private discovery: ReturnType<typeof setInterval> | undefined;
  private readonly clock: Clock;
  private readonly pacer: ConnectPacer;
  private readonly restarts: ConnectPacer;

  constructor(private readonly options: WhatsAppProviderOptions) {
    this.sendWindow = options.sendWindow ?? 1;
    this.clock = options.clock ?? systemClock;
    this.pacer = new ConnectPacer(options.connectsPerSecond ?? 0, () => this.clock.now().getTime());
    this.restarts = ConnectPacer.spaced(RESTART_SPACING_MS, () => this.clock.now().getTime());
  }

  /**
   * Starts every stored session (or the default one when none is stored),
   * then keeps looking for sessions that appear in the store later (a
   * Firestore store that answers only after start, a migration). A store
   * that cannot answer yet never fails the start: the sessions retry.
   */
  async start(): Promise<void> {
    await this.discover(true);
    this.discovery = setInterval(() => void this.discover(false), this.options.discoveryIntervalMs ?? 30_000);
    this.discovery.unref?.();
  }

  async stop(): Promise<void> {
    clearInterval(this.discovery);
    for (const supervisor of this.supervisors.values()) supervisor.stop();
    await this.options.connector.flush();
  }

  private async discover(first: boolean): Promise<void> {
    let stored: string[];
    try {
      stored = await this.options.store.listSessions();
    } catch (error) {
      this.options.logger.warn({ err: error }, "sessions: the session store cannot list sessions yet; will look again");
      stored = [];
    }
    const ids = first && stored.length === 0 && this.options.defaultSession ? [this.options.defaultSession] : stored;
    for (const id of ids) {
      // Being created: `create` starts it once its marker is stored; a second supervisor would open a second socket.
      if (this.supervisors.has(id) || this.removing.has(id) || this.creating.has(id)) continue;
      if (!isValidSessionId(id)) {
        this.options.logger.warn({ session: id }, "sessions: ignoring a stored session with an invalid id");
        continue;
      }
      if (!stored.includes(id)) {
        await this.markExisting(id).catch((error: unknown) => {
          this.options.logger.warn({ err: error, session: id }, "sessions: could not record the new session yet");
        });
      }
      if (!first) this.options.logger.info({ session: id }, "sessions: found a stored session, starting it");
      this.supervise(id).start();
    }
  }

  hasSession(session: string): boolean {
    return this.supervisors.has(session);
  }

  isReady(session: string): boolean {
    return this.supervisors.get(session)?.isOpen ?? false;
  }

  async send(message: Message, progress?: SendProgress): Promise<SendReceipt> {
    const connection = this.supervisors.get(message.session)?.liveConnection;
    if (!connection) throw new ProviderError(this.id, `session "${message.session}" is not connected`, true);
    return connection.send(message, progress);
  }

  subscribe(listener: ProviderEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // SessionControl

  list(): SessionInfo[] {
    return [...this.supervisors.values()].map((s) => s.info());
  }

  get(id: string): SessionInfo | undefined {
    return this.supervisors.get(id)?.info();
  }

  async create(id: string): Promise<SessionInfo> {
    if (!isValidSessionId(id)) {
      throw new DomainError(
        "REQUEST.INVALID",
        "id: must be 1-64 letters, digits, _ or -, starting with a letter or digit",
        [{ field: "id", message: "invalid session id" }],
      );
    }
    if (this.supervisors.has(id) || this.creating.has(id))
      throw new DomainError("SESSION.ALREADY_EXISTS", `session "${id}" already exists`);
    const max = this.options.maxSessions;
    if (max !== undefined && this.supervisors.size + this.creating.size >= max) {
      throw new DomainError(
        "SESSION.LIMIT_REACHED",
        `this gateway already has ${max} sessions (MAX_SESSIONS); delete one first`,
      );
    }
    this.creating.add(id);
    try {
      await this.markExisting(id);
    } finally {
      this.creating.delete(id);
    }
    const supervisor = this.supervise(id);
    supervisor.start();
    return supervisor.info();
  }

  async remove(id: string): Promise<void> {
    const supervisor = this.required(id);
    this.supervisors.delete(id);
    this.removing.add(id);
    try {
      await supervisor.logoutAndStop();
      await this.options.connector.forget(id);
      await this.options.store.clear(id);
    } finally {
      this.removing.delete(id);
    }
  }

  /** Starts a session that sits idle (logged out, stopped, needs attention): a new login shows a new QR. */
  async connect(id: string): Promise<SessionInfo> {
    const supervisor = this.required(id);
    if (!supervisor.idle) return supervisor.info();
    await this.markExisting(id);
    supervisor.start();
    return supervisor.info();
  }

  qr(id: string): { readonly qr: string; readonly expiresAt: string } | undefined {
    return this.required(id).qr();
  }

  async requestPairingCode(id: string, phone: string): Promise<string> {
    const supervisor = this.required(id);
    if (supervisor.info().state === "open")
      throw new DomainError("REQUEST.INVALID", `session "${id}" is already linked`);
    return supervisor.requestPairingCode(phone);
  }

  /** The session's open connection; a session that is down fails retryably, an unknown one with SESSION.NOT_FOUND. */
  private connection(session: string): WhatsAppConnection {
    const connection = this.required(session).liveConnection;
    if (!connection) throw new ProviderError(this.id, `session "${session}" is not connected`, true);
    return connection;
  }

  private required(id: string): SessionSupervisor {
    const supervisor = this.supervisors.get(id);
    if (!supervisor) throw new DomainError("SESSION.NOT_FOUND", `no session "${id}"`);
    return supervisor;
  }

  private async markExisting(id: string): Promise<void> {
    await this.options.store.setMany(
      id,
      new Map([[SESSION_MARKER_KEY, { createdAt: this.clock.now().toISOString() }]]),
    );
  }

  private supervise(id: string): SessionSupervisor {
    const supervisor = new SessionSupervisor(id, {
      provider: this.id,
      connector: this.options.connector,
      wipeLogin: async () => {
        await this.options.store.clear(id);
        await this.markExisting(id);
      },
      logger: this.options.logger,
      settings: this.options.settings,
      now: () => this.clock.now().getTime(),
      ...(this.options.random ? { random: this.options.random } : {}),
      ...(this.options.onRecovery ? { onRecovery: this.options.onRecovery } : {}),
      pace: () => this.pacer.turn(),
      restartDelayMs: () => this.restarts.reserve(),
      onChange: (info) => this.emit({ type: "session", session: id, state: info.state, ready: info.state === "open" }),
      onTraffic: (event) => {
        if (event.type === "status") {
          this.emit({ type: "status", providerMessageId: event.providerMessageId, status: event.status });
          return;
        }
        if (event.type === "group") {
          this.emit({ type: "group", session: id, update: event.update });
          return;
        }
        const m = event.message;
        this.emit({
          type: "inbound",
          message: {
            provider: this.id,
            session: id,
            channel: "whatsapp",
            from: m.from,
            to: m.to || null,
            text: m.text,
            media: m.media,
            ...(m.conversation ? { conversation: m.conversation } : {}),
            providerMessageId: m.providerMessageId,
            at: m.at,
          },
        });
      },
    });
    this.supervisors.set(id, supervisor);
    return supervisor;
  }

  private emit(event: ProviderEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.options.logger.error({ err: error }, "sessions: a provider event listener failed");
      }
    }
  }
}
