import type { ConnectionClosed } from "../../../domain/ports/whatsapp-connector.port.ts";
import type { DisconnectReason as Reason } from "../../../domain/session.ts";
import { DisconnectReason } from "@whiskeysockets/baileys";

/** The message Baileys ends a registration with when nobody scanned any of its QR codes. */
const QR_REFS_ENDED = "QR refs attempts ended";
/** The message of Baileys' keep-alive giving up (the same 408 as a timeout). */
const CONNECTION_LOST = "Connection was lost";
/** The server's answer to a WhatsApp Web version it no longer takes (not in Baileys' DisconnectReason). */
const OUTDATED_CLIENT = 405;

/**
 * Baileys' DisconnectReason codes in our words. 408 is both `connectionLost`
 * and `timedOut` there: the message tells them apart (see `toConnectionClosed`).
 */
const REASONS: ReadonlyMap<number, Reason> = new Map<number, Reason>([
  [DisconnectReason.restartRequired, "restart_required"],
  [DisconnectReason.loggedOut, "logged_out"],
  [DisconnectReason.connectionReplaced, "replaced"],
  [DisconnectReason.connectionClosed, "connection_closed"],
  [DisconnectReason.timedOut, "timed_out"],
  [DisconnectReason.badSession, "bad_session"],
  [DisconnectReason.forbidden, "forbidden"],
  [OUTDATED_CLIENT, "outdated_client"],
  [DisconnectReason.multideviceMismatch, "multidevice_mismatch"],
  [DisconnectReason.unavailableService, "unavailable"],
]);

/** The status code of a Boom error (Baileys' errors), if it has one. */
export function boomStatusCode(error: unknown): number | undefined {
  const output = (error as { output?: { statusCode?: unknown } } | null | undefined)?.output;
  const code = output?.statusCode;
  return typeof code === "number" && Number.isInteger(code) ? code : undefined;
}

/**
 * Why a Baileys socket closed, from `connection.update`'s `lastDisconnect`:
 * the named reason, the Boom status code (428, connection closed, when there
 * is none) kept for operators, and the error's message. A 408 is the QR codes
 * running out, or the keep-alive giving up, or any other timeout, as the
 * message says.
 */
export function toConnectionClosed(lastDisconnect: { readonly error?: unknown } | undefined): ConnectionClosed {
  const error = lastDisconnect?.error;
  const code = boomStatusCode(error) ?? DisconnectReason.connectionClosed;
  const message = error instanceof Error ? error.message : typeof error === "string" ? error : "";
  return { reason: reasonOf(code, message), code, message: message || "connection closed" };
}

function reasonOf(code: number, message: string): Reason {
  if (code === DisconnectReason.timedOut) {
    if (message === QR_REFS_ENDED) return "qr_exhausted";
    if (message === CONNECTION_LOST) return "connection_lost";
  }
  return REASONS.get(code) ?? "unknown";
}
