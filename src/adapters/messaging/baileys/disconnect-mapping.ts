import type { ConnectionClosed } from "../../../domain/ports/whatsapp-connector.port.ts";

/** Baileys' DisconnectReason.connectionClosed: what a close without a status code means. */
const CONNECTION_CLOSED = 428;
/** The message Baileys ends a registration with when nobody scanned any of its QR codes. */
const QR_REFS_ENDED = "QR refs attempts ended";

/** The status code of a Boom error (Baileys' errors), if it has one. */
export function boomStatusCode(error: unknown): number | undefined {
  const output = (error as { output?: { statusCode?: unknown } } | null | undefined)?.output;
  const code = output?.statusCode;
  return typeof code === "number" && Number.isInteger(code) ? code : undefined;
}

/**
 * Why a Baileys socket closed, from `connection.update`'s `lastDisconnect`:
 * the Boom status code (428 when there is none), the error's message, and
 * whether the client gave up because its QR codes ran out (it closes with 408
 * then, the code a keep-alive timeout also uses).
 */
export function toConnectionClosed(lastDisconnect: { readonly error?: unknown } | undefined): ConnectionClosed {
  const error = lastDisconnect?.error;
  const code = boomStatusCode(error) ?? CONNECTION_CLOSED;
  const message = error instanceof Error ? error.message : typeof error === "string" ? error : "";
  return {
    code,
    reason: message || "connection closed",
    qrExhausted: code === 408 && message === QR_REFS_ENDED,
  };
}
