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

export interface DisconnectInfo {
  readonly code: number;
  readonly reason: string;
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
  readonly reconnects: number;
  readonly lastRecoveryMs: number | null;
}

// Session ids end up in file names, document ids and URLs.
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function isValidSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}
