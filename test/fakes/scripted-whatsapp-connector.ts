import { DomainError } from "../../src/domain/errors.ts";
import type { ConnectionGroups } from "../../src/domain/ports/group-control.port.ts";
import type { ContactLookup, PresenceState } from "../../src/domain/ports/messaging-provider.port.ts";
import type { Message } from "../../src/domain/message.ts";
import type { SendReceipt } from "../../src/domain/ports/messaging-provider.port.ts";
import type { SessionStore } from "../../src/domain/ports/session-store.port.ts";
import type { DisconnectReason } from "../../src/domain/session.ts";
import type {
  ConnectionEvent,
  WhatsAppConnection,
  WhatsAppConnector,
} from "../../src/domain/ports/whatsapp-connector.port.ts";

/** The code WhatsApp Web sends with each reason (informational: the gateway decides on the reason). */
const TYPICAL_CODES: Readonly<Record<DisconnectReason, number>> = {
  restart_required: 515,
  logged_out: 401,
  replaced: 440,
  connection_closed: 428,
  connection_lost: 408,
  timed_out: 408,
  qr_exhausted: 408,
  bad_session: 500,
  forbidden: 403,
  outdated_client: 405,
  multidevice_mismatch: 411,
  unavailable: 503,
  connect_failed: 0,
  unknown: 499,
};

/** A connection whose events the test plays, recording what was asked of it. */
export class ScriptedConnection implements WhatsAppConnection {
  ended = false;
  loggedOut = false;
  readonly sent: Message[] = [];

  constructor(
    readonly session: string,
    private readonly listener: (event: ConnectionEvent) => void,
  ) {}

  /** Plays an event as if the network had produced it (ignored once ended, like a real socket's removed listeners). */
  emit(event: ConnectionEvent): void {
    if (!this.ended) this.listener(event);
  }

  open(me = "40700000001:1@s.whatsapp.net"): void {
    this.emit({ type: "open", me });
  }

  /** Closes as the connector reports it: a named reason, the protocol's code (a typical one by default), a message. */
  close(reason: DisconnectReason, message = "closed", code = TYPICAL_CODES[reason]): void {
    this.emit({ type: "close", closed: { reason, code, message } });
  }

  async send(message: Message): Promise<SendReceipt> {
    this.sent.push(message);
    return { providerMessageId: `wa-${message.id}` };
  }

  readonly groups: ConnectionGroups = {
    list: async () => [],
    get: async (groupId) => {
      throw new DomainError("GROUP.NOT_FOUND", `no group ${groupId}`);
    },
    create: async () => {
      throw new DomainError("GROUP.NOT_ADMIN", "the scripted connection has no groups");
    },
    changeParticipants: async (groupId) => {
      throw new DomainError("GROUP.NOT_FOUND", `no group ${groupId}`);
    },
    update: async (groupId) => {
      throw new DomainError("GROUP.NOT_FOUND", `no group ${groupId}`);
    },
    leave: async (groupId) => {
      throw new DomainError("GROUP.NOT_FOUND", `no group ${groupId}`);
    },
    inviteLink: async (groupId) => {
      throw new DomainError("GROUP.NOT_FOUND", `no group ${groupId}`);
    },
  };

  /** Read marks and presence updates asked of this connection, in order. */
  readonly chatActions: string[] = [];

  async markRead(providerMessageId: string, from: string): Promise<void> {
    this.chatActions.push(`read ${providerMessageId} from ${from}`);
  }

  async presence(to: string, state: PresenceState): Promise<void> {
    this.chatActions.push(`${state} to ${to}`);
  }

  async lookup(address: string): Promise<ContactLookup> {
    return { address, onWhatsApp: true, lid: null };
  }

  async requestPairingCode(): Promise<string> {
    return "ABCD1234";
  }

  async logout(): Promise<void> {
    this.loggedOut = true;
  }

  end(): void {
    this.ended = true;
  }
}

/**
 * A WhatsAppConnector for supervisor tests: every connect() makes a new
 * ScriptedConnection; the test drives what each one reports.
 */
export class ScriptedWhatsAppConnector implements WhatsAppConnector {
  readonly connections: ScriptedConnection[] = [];
  private readonly failures: Error[] = [];
  /** Called on each new connection, to script it (e.g. open at once). */
  onConnect: ((connection: ScriptedConnection) => void) | undefined;

  failNextConnect(error: Error): void {
    this.failures.push(error);
  }

  /** With a store, connect() reads the login first, as the real connector does (and fails when the store cannot answer). */
  constructor(private readonly store?: SessionStore) {}

  async connect(session: string, listener: (event: ConnectionEvent) => void): Promise<WhatsAppConnection> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    await this.store?.getMany(session, ["creds"]);
    const connection = new ScriptedConnection(session, listener);
    this.connections.push(connection);
    if (this.onConnect) queueMicrotask(() => this.onConnect?.(connection));
    return connection;
  }

  async flush(): Promise<void> {}

  readonly forgotten: string[] = [];

  async forget(session: string): Promise<void> {
    this.forgotten.push(session);
  }

  get last(): ScriptedConnection {
    const last = this.connections.at(-1);
    if (!last) throw new Error("no connection yet");
    return last;
  }
}
