export const SessionStates = [
  "starting",
  "qr",
  "connecting",
  "open",
  "reconnecting",
  "logged_out",
  "stopped",
  "needs_attention",
] as const;
export type SessionState = (typeof SessionStates)[number];

/**
 * Why a WhatsApp connection ended, in our words; the connector translates the
 * protocol's own codes into these, and the reconnect policy decides on them.
 */
export const DisconnectReasons = [
  // The server asks for a new socket on the same login (normal right after linking).
  "restart_required",
  // The device was unlinked (from the phone, or the server dropped it): the login is dead.
  "logged_out",
  // Another client opened a connection with the same login.
  "replaced",
  // The socket closed without saying why.
  "connection_closed",
  // The server stopped answering the keep-alive.
  "connection_lost",
  // Connecting or a request timed out.
  "timed_out",
  // The client showed all its QR codes and nobody scanned one.
  "qr_exhausted",
  // The server could not use the session (a stream error without a known reason).
  "bad_session",
  // The server refused this account (banned or restricted).
  "forbidden",
  // The server refused this client's WhatsApp Web version.
  "outdated_client",
  // The server asked for a newer multi-device client.
  "multidevice_mismatch",
  // The service is unavailable for now.
  "unavailable",
  // No socket could be opened at all (the stored login could not be read, for one).
  "connect_failed",
  // A reason the connector does not know.
  "unknown",
] as const;
export type DisconnectReason = (typeof DisconnectReasons)[number];

/** The last time a session's connection ended, as operators see it. */
export interface DisconnectInfo {
  /** The protocol's status code, as it came (0 when there was none). */
  readonly code: number;
  /** Why, for a person: what the library said, or what the session decided and what to do about it. */
  readonly reason: string;
  /** Why, as a name (what the reconnect policy decided on). */
  readonly cause: DisconnectReason;
  readonly at: string;
}

/** A provider login (a linked WhatsApp account) as the API shows it. */
export interface SessionInfo {
  readonly id: string;
  readonly provider: string;
  readonly state: SessionState;
  /** The account's own id once linked (e.g. `40712345678:3@s.whatsapp.net`). */
  readonly me: string | null;
  readonly lastDisconnect: DisconnectInfo | null;
  /** Recoveries: times the connection came back open after it had been open and dropped. */
  readonly reconnects: number;
  /**
   * Connection attempts made after a close, whether they opened or failed (a
   * session retrying an unreachable server counts up here, not in `reconnects`).
   */
  readonly reconnectAttempts: number;
  readonly lastRecoveryMs: number | null;
}

// Session ids end up in file names, document ids and URLs.
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function isValidSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}
