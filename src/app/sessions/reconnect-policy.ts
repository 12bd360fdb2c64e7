import type { ConnectionClosed } from "../../domain/ports/whatsapp-connector.port.ts";
import type { DisconnectReason } from "../../domain/session.ts";
import { backoffDelayMs } from "../dispatcher/backoff.ts";

export interface ReconnectSettings {
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** After being replaced by another client, wait this long before trying again. */
  readonly replacedCooldownMs: number;
  /** At most this many reconnects after being replaced within `replacedWindowMs`; then give up. */
  readonly replacedMaxReconnects: number;
  readonly replacedWindowMs: number;
}

/** What the supervisor does after a connection closed. */
export type ReconnectDecision =
  | { readonly action: "reconnect"; readonly delayMs: number }
  /** Stop trying; the session waits for an operator. */
  | {
      readonly action: "stop";
      readonly state: "logged_out" | "needs_attention" | "stopped";
      readonly reason: string;
      readonly wipeLogin: boolean;
    };

export interface ReconnectContext {
  /** Consecutive failed attempts since the connection was last open (0 for the first close). */
  readonly failedAttempts: number;
  /** Times of earlier reconnects after being replaced, newest last. */
  readonly replacedReconnectsAt: readonly number[];
  readonly now: number;
}

// Reasons retrying cannot help, with an explanation an operator can act on
// (the protocol's code is shown too: it is what support pages search for).
const fatal: Partial<Record<DisconnectReason, (code: number) => string>> = {
  forbidden: (code) => `WhatsApp refused this account (${code} forbidden): it may be banned or restricted`,
  outdated_client: (code) =>
    `WhatsApp refused the connection (${code}): usually an outdated WhatsApp Web version; upgrade the gateway`,
  multidevice_mismatch: (code) => `WhatsApp asked for a newer multi-device client (${code}): upgrade the gateway`,
};

/**
 * The reconnect policy, one rule per disconnect reason:
 * - restart required: at once (normal right after pairing);
 * - logged out: stop, wipe the stored login, wait for a new QR;
 * - replaced: only after a cool-down and a few times per window, so two
 *   instances holding the same login never take turns kicking each other;
 * - forbidden, outdated client, multi-device mismatch: stop with a reason
 *   (retrying cannot help);
 * - QR codes not scanned in time: stop until someone asks for a new QR;
 * - anything else (closed, lost, timed out, bad session, unavailable, a
 *   failed connect, unknown): first retry at once, then exponential backoff
 *   with full jitter, capped.
 */
export function decideReconnect(
  closed: ConnectionClosed,
  context: ReconnectContext,
  settings: ReconnectSettings,
  random: () => number = Math.random,
): ReconnectDecision {
  const { reason, code } = closed;
  if (reason === "qr_exhausted") {
    return {
      action: "stop",
      state: "stopped",
      reason: "no QR code was scanned in time; ask for a new one",
      wipeLogin: false,
    };
  }
  if (reason === "restart_required") return { action: "reconnect", delayMs: 0 };
  if (reason === "logged_out") {
    return {
      action: "stop",
      state: "logged_out",
      reason: `logged out from the phone (${code}); link again with a new QR`,
      wipeLogin: true,
    };
  }
  const fatalReason = fatal[reason];
  if (fatalReason) return { action: "stop", state: "needs_attention", reason: fatalReason(code), wipeLogin: false };
  if (reason === "replaced") {
    const recent = context.replacedReconnectsAt.filter((at) => context.now - at < settings.replacedWindowMs);
    if (recent.length >= settings.replacedMaxReconnects) {
      return {
        action: "stop",
        state: "needs_attention",
        reason: `replaced by another client (${code}) ${recent.length + 1} times within ${Math.round(settings.replacedWindowMs / 1000)} s; is another instance running this login?`,
        wipeLogin: false,
      };
    }
    return { action: "reconnect", delayMs: settings.replacedCooldownMs };
  }
  if (context.failedAttempts === 0) return { action: "reconnect", delayMs: 0 };
  return {
    action: "reconnect",
    delayMs: backoffDelayMs(
      context.failedAttempts,
      { baseMs: settings.backoffBaseMs, maxMs: settings.backoffMaxMs },
      random,
    ),
  };
}
