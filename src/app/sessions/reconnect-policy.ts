import type { ConnectionClosed } from "../../domain/ports/whatsapp-connector.port.ts";
import { backoffDelayMs } from "../dispatcher/backoff.ts";

export interface ReconnectSettings {
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** After a 440 (replaced by another client), wait this long before trying again. */
  readonly replacedCooldownMs: number;
  /** At most this many reconnects after 440 within `replacedWindowMs`; then give up. */
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
  /** Times of earlier reconnects after a 440, newest last. */
  readonly replacedReconnectsAt: readonly number[];
  readonly now: number;
}

// Reasons with an explanation an operator can act on.
const fatal: Readonly<Record<number, string>> = {
  403: "WhatsApp refused this account (403 forbidden): it may be banned or restricted",
  405: "WhatsApp refused the connection (405): usually an outdated WhatsApp Web version; upgrade the gateway",
  411: "WhatsApp asked for a newer multi-device client (411): upgrade the gateway",
};

/**
 * The reconnect policy, one rule per disconnect reason:
 * - 515 restart required: at once (normal right after pairing);
 * - 401 logged out: stop, wipe the stored login, wait for a new QR;
 * - 440 replaced: only after a cool-down and a few times per window, so two
 *   instances holding the same login never take turns kicking each other;
 * - 403, 405, 411: stop with a reason (retrying cannot help);
 * - QR codes not scanned in time: stop until someone asks for a new QR;
 * - anything else (428 closed, 408 timed out, 500, 503, network): first
 *   retry at once, then exponential backoff with full jitter, capped.
 */
export function decideReconnect(
  closed: ConnectionClosed,
  context: ReconnectContext,
  settings: ReconnectSettings,
  random: () => number = Math.random,
): ReconnectDecision {
  if (closed.qrExhausted) {
    return {
      action: "stop",
      state: "stopped",
      reason: "no QR code was scanned in time; ask for a new one",
      wipeLogin: false,
    };
  }
  if (closed.code === 515) return { action: "reconnect", delayMs: 0 };
  if (closed.code === 401) {
    return {
      action: "stop",
      state: "logged_out",
      reason: "logged out from the phone (401); link again with a new QR",
      wipeLogin: true,
    };
  }
  const fatalReason = fatal[closed.code];
  if (fatalReason) return { action: "stop", state: "needs_attention", reason: fatalReason, wipeLogin: false };
  if (closed.code === 440) {
    const recent = context.replacedReconnectsAt.filter((at) => context.now - at < settings.replacedWindowMs);
    if (recent.length >= settings.replacedMaxReconnects) {
      return {
        action: "stop",
        state: "needs_attention",
        reason: `replaced by another client (440) ${recent.length + 1} times within ${Math.round(settings.replacedWindowMs / 1000)} s; is another instance running this login?`,
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
