import type { Logger } from "../../domain/ports/logger.port.ts";
import { CorruptEntryError } from "../../domain/ports/session-store.port.ts";
import type {
  ConnectionClosed,
  ConnectionEvent,
  WhatsAppConnection,
  WhatsAppConnector,
} from "../../domain/ports/whatsapp-connector.port.ts";
import type { DisconnectInfo, SessionInfo, SessionState } from "../../domain/session.ts";
import { withTimeout } from "../../domain/timeout.ts";
import { decideReconnect, type ReconnectSettings } from "./reconnect-policy.ts";

/** Attempts of one recovery kept for its trace (the count itself is never capped). */
const MAX_LOGGED_ATTEMPTS = 100;
/** How long a delete waits for the server to confirm the logout before wiping the login anyway. */
const LOGOUT_TIMEOUT_MS = 10_000;

/** One recovery: from the close of an open connection to the next open, or to giving up. */
export interface RecoveryRecord {
  readonly session: string;
  /** The protocol's code of the close that started the recovery, and what the library said of it. */
  readonly code: number;
  readonly reason: string;
  readonly attempts: number;
  readonly outcome: "open" | "gave_up" | "logged_out";
  readonly startedAt: number;
  readonly endedAt: number;
  readonly durationMs: number;
  /** Each connection attempt of the recovery, in order. */
  readonly attemptLog: readonly ConnectAttempt[];
}

export interface ConnectAttempt {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcome: "open" | "closed";
  /** Why the attempt closed, when it did. */
  readonly code?: number;
}

export interface SupervisorDeps {
  /** The id of the provider the session belongs to, as sessions show it. */
  readonly provider: string;
  readonly connector: WhatsAppConnector;
  /** Forgets the stored login (after a logout), keeping the session itself. */
  readonly wipeLogin: () => Promise<void>;
  readonly logger: Logger;
  readonly settings: ReconnectSettings;
  readonly random?: () => number;
  readonly now?: () => number;
  /** Every change of what `info()` shows. */
  readonly onChange: (info: SessionInfo) => void;
  /** Inbound messages and status reports of the live connection. */
  readonly onTraffic: (event: Extract<ConnectionEvent, { type: "inbound" | "status" | "group" }>) => void;
  readonly onRecovery?: (record: RecoveryRecord) => void;
  /** Waits for this session's turn to open a socket (the process paces its connections). */
  readonly pace?: () => Promise<unknown>;
  /** How long a restart after pairing waits (shared by the provider's sessions, see ConnectPacer.spaced); default at once. */
  readonly restartDelayMs?: () => number;
}

/**
 * One WhatsApp session's state machine. It owns at most one live connection
 * at a time (the previous one is ended, listeners first, before the next one
 * is opened; events of an older connection are ignored), and applies the
 * reconnect policy to every close.
 */
export class SessionSupervisor {
  private state: SessionState = "stopped";
  private me: string | null = null;
  private lastDisconnect: DisconnectInfo | null = null;
  private reconnects = 0;
  private reconnectAttempts = 0;
  private lastRecoveryMs: number | null = null;
  private pendingQr: { qr: string; expiresAt: Date } | undefined;
  private connection: WhatsAppConnection | undefined;
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failedAttempts = 0;
  private replacedReconnectsAt: number[] = [];
  private recovery:
    { startedAt: number; code: number; reason: string; attempts: number; log: ConnectAttempt[] } | undefined;
  private attemptStartedAt = 0;
  private readonly now: () => number;

  constructor(
    readonly id: string,
    private readonly deps: SupervisorDeps,
  ) {
    this.now = deps.now ?? Date.now;
  }

  info(): SessionInfo {
    return {
      id: this.id,
      provider: this.deps.provider,
      state: this.state,
      me: this.me,
      lastDisconnect: this.lastDisconnect,
      reconnects: this.reconnects,
      reconnectAttempts: this.reconnectAttempts,
      lastRecoveryMs: this.lastRecoveryMs,
    };
  }

  get isOpen(): boolean {
    return this.state === "open" && this.connection !== undefined;
  }

  /** The live connection, when the session is open. */
  get liveConnection(): WhatsAppConnection | undefined {
    return this.isOpen ? this.connection : undefined;
  }

  qr(): { qr: string; expiresAt: string } | undefined {
    if (this.state !== "qr" || !this.pendingQr || this.pendingQr.expiresAt.getTime() <= this.now()) return undefined;
    return { qr: this.pendingQr.qr, expiresAt: this.pendingQr.expiresAt.toISOString() };
  }

  /** Whether the session sits idle, waiting for an operator (stopped, logged out, needs attention). */
  get idle(): boolean {
    return this.state === "stopped" || this.state === "logged_out" || this.state === "needs_attention";
  }

  start(): void {
    this.failedAttempts = 0;
    this.setState("starting");
    void this.connect(false);
  }

  /** Ends the connection without logging out (shutdown, or before a delete). */
  stop(): void {
    this.generation++;
    clearTimeout(this.timer);
    this.endConnection();
    this.pendingQr = undefined;
    this.setState("stopped");
  }

  /** Logs the device out when connected, then stops. */
  async logoutAndStop(): Promise<void> {
    const connection = this.connection;
    this.generation++;
    clearTimeout(this.timer);
    if (connection && this.state === "open") {
      try {
        await withTimeout(
          connection.logout(),
          LOGOUT_TIMEOUT_MS,
          () => new Error(`timed out after ${LOGOUT_TIMEOUT_MS} ms`),
        );
      } catch (error) {
        this.deps.logger.warn(
          { err: error, session: this.id },
          "session: logout failed; wiping the local login anyway",
        );
      }
    }
    this.stop();
  }

  /** Asks the live (unlinked) connection for a pairing code, starting one if the session is idle. */
  async requestPairingCode(phone: string): Promise<string> {
    if (this.state === "open") throw new Error("the session is already linked");
    if (this.idle) this.start();
    const deadline = this.now() + 15_000;
    while (!this.connection && this.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    if (!this.connection) throw new Error("the session could not connect to WhatsApp to ask for a pairing code");
    return this.connection.requestPairingCode(phone);
  }

  /** Opens a connection; `again` when the reconnect policy asked for it after a close. */
  private async connect(again: boolean): Promise<void> {
    const generation = ++this.generation;
    this.endConnection();
    if (again) this.reconnectAttempts++;
    this.setState(this.recovery ? "reconnecting" : "connecting");
    this.attemptStartedAt = this.now();
    if (this.recovery) this.recovery.attempts++;
    let connection: WhatsAppConnection;
    try {
      if (this.deps.pace) {
        await this.deps.pace();
        if (generation !== this.generation) return;
      }
      connection = await this.deps.connector.connect(this.id, (event) => this.onEvent(generation, event));
    } catch (error) {
      if (generation !== this.generation) return;
      if (error instanceof CorruptEntryError) {
        this.deps.logger.error(
          { session: this.id, key: error.key, location: error.location },
          "session: stored login is corrupt; not starting over with a new QR",
        );
        this.lastDisconnect = {
          code: 0,
          reason: `stored login is corrupt (${error.key ?? "index"}); restore it or delete the session`,
          cause: "connect_failed",
          at: new Date(this.now()).toISOString(),
        };
        this.setState("needs_attention");
        return;
      }
      this.deps.logger.warn({ err: error, session: this.id }, "session: could not open a connection");
      this.onClose(generation, {
        reason: "connect_failed",
        code: 0,
        message: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    if (generation !== this.generation) {
      connection.end();
      return;
    }
    this.connection = connection;
  }

  private onEvent(generation: number, event: ConnectionEvent): void {
    if (generation !== this.generation) return;
    switch (event.type) {
      case "qr":
        this.pendingQr = { qr: event.qr, expiresAt: event.expiresAt };
        this.setState("qr");
        return;
      case "open":
        this.onOpen(event.me);
        return;
      case "close":
        this.onClose(generation, event.closed);
        return;
      default:
        this.deps.onTraffic(event);
    }
  }

  private onOpen(me: string): void {
    this.me = me;
    this.pendingQr = undefined;
    this.failedAttempts = 0;
    const now = this.now();
    if (this.recovery) {
      logAttempt(this.recovery.log, { startedAt: this.attemptStartedAt, endedAt: now, outcome: "open" });
      this.lastRecoveryMs = now - this.recovery.startedAt;
      this.reconnects++;
      this.finishRecovery("open", now);
    }
    this.setState("open");
  }

  private onClose(generation: number, closed: ConnectionClosed): void {
    const wasOpen = this.state === "open";
    const now = this.now();
    this.connection?.end();
    this.connection = undefined;
    this.pendingQr = undefined;
    this.lastDisconnect = {
      code: closed.code,
      reason: closed.message,
      cause: closed.reason,
      at: new Date(now).toISOString(),
    };
    if (this.recovery && this.recovery.attempts > 0) {
      logAttempt(this.recovery.log, {
        startedAt: this.attemptStartedAt,
        endedAt: now,
        outcome: "closed",
        code: closed.code,
      });
    }
    if (wasOpen) this.recovery = { startedAt: now, code: closed.code, reason: closed.message, attempts: 0, log: [] };

    const decided = decideReconnect(
      closed,
      { failedAttempts: this.failedAttempts, replacedReconnectsAt: this.replacedReconnectsAt, now },
      this.deps.settings,
      this.deps.random,
    );
    const decision =
      decided.action === "reconnect" && closed.reason === "restart_required" && this.deps.restartDelayMs
        ? { ...decided, delayMs: this.deps.restartDelayMs() }
        : decided;
    this.deps.logger.info(
      {
        session: this.id,
        code: closed.code,
        reason: closed.reason,
        detail: closed.message,
        decision: decision.action,
        ...(decision.action === "reconnect" ? { delayMs: decision.delayMs } : { state: decision.state }),
      },
      "session: connection closed",
    );
    if (decision.action === "stop") {
      this.lastDisconnect = { ...this.lastDisconnect, reason: decision.reason };
      if (this.recovery) this.finishRecovery(decision.state === "logged_out" ? "logged_out" : "gave_up", now);
      this.setState(decision.state);
      if (decision.wipeLogin) {
        this.me = null;
        this.deps.wipeLogin().catch((error: unknown) => {
          this.deps.logger.error({ err: error, session: this.id }, "session: wiping the logged-out login failed");
        });
      }
      return;
    }
    if (closed.reason !== "restart_required") this.failedAttempts++;
    if (closed.reason === "replaced")
      this.replacedReconnectsAt = [
        ...this.replacedReconnectsAt.filter((at) => now - at < this.deps.settings.replacedWindowMs),
        now,
      ];
    this.setState(this.recovery ? "reconnecting" : "connecting");
    clearTimeout(this.timer);
    if (decision.delayMs === 0) {
      void this.connect(true);
    } else {
      this.timer = setTimeout(() => {
        if (generation === this.generation) void this.connect(true);
      }, decision.delayMs);
    }
  }

  private finishRecovery(outcome: RecoveryRecord["outcome"], now: number): void {
    const r = this.recovery;
    this.recovery = undefined;
    if (!r) return;
    this.deps.onRecovery?.({
      session: this.id,
      code: r.code,
      reason: r.reason,
      attempts: r.attempts,
      outcome,
      startedAt: r.startedAt,
      endedAt: now,
      durationMs: now - r.startedAt,
      attemptLog: r.log,
    });
  }

  private endConnection(): void {
    const connection = this.connection;
    this.connection = undefined;
    connection?.end();
  }

  private setState(state: SessionState): void {
    this.state = state;
    this.deps.onChange(this.info());
  }
}

/** A long outage makes an attempt a minute: the log (for tracing) keeps the latest ones. */
function logAttempt(log: ConnectAttempt[], attempt: ConnectAttempt): void {
  if (log.length >= MAX_LOGGED_ATTEMPTS) log.shift();
  log.push(attempt);
}
