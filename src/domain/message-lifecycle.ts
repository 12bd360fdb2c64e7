import {
  earlyStatusLimits,
  isRetained,
  type EarlyStatus,
  type EarlyStatusKey,
  type EarlyStatusLimits,
} from "./early-statuses.ts";
import type { MessageError } from "./errors.ts";
import { deleted, edited, plainConversation, type Conversation } from "./conversation.ts";
import { isHeld, type MessageMedia } from "./media.ts";
import type { Message, NewInboundMessage, NewOutboundMessage, StatusChange } from "./message.ts";
import { canTransition, statusesPassed, type MessageStatus } from "./message-status.ts";
import type { Amendment, AttemptOutcome, StatusUpdate } from "./ports/message-store.port.ts";

// What each event of a message's life does to it: acceptance, a claim, an
// attempt's outcome, a provider's status report, a requeue at start. Stores
// load a message, ask these functions for the message after the event, and
// persist the result; none of them decides a status, a count or a history
// entry of its own.

/**
 * A message with what the queue keeps beside it. Times are epoch
 * milliseconds, as stores keep them.
 */
export interface StoredMessage {
  readonly message: Message;
  /** When a `queued` message may next be handed out; null once it left the queue. */
  readonly nextAttemptAt: number | null;
  /** When a `sending` message's lease runs out (its worker presumed dead); null otherwise. */
  readonly leaseUntil: number | null;
}

/** Statuses of a message still in the dispatcher's hands: the queue proper. */
const UNFINISHED: readonly MessageStatus[] = ["queued", "sending"];
/** Statuses of a message the provider took: an error from an earlier attempt no longer applies. */
const GOT_THROUGH: readonly MessageStatus[] = ["sent", "delivered", "read"];

/** Whether a message with this status is still in the queue (waiting or in flight). */
export function isUnfinished(status: MessageStatus): boolean {
  return UNFINISHED.includes(status);
}

/** A newly accepted outbound message: `queued`, due at once, no attempt yet. */
export function acceptedOutbound(message: NewOutboundMessage): StoredMessage {
  const at = message.at.toISOString();
  return {
    message: {
      id: message.id,
      direction: "outbound",
      status: "queued",
      channel: message.channel,
      provider: message.provider,
      session: message.session,
      to: message.to,
      from: message.from,
      text: message.text,
      media: [...message.media],
      ...conversationOf(message),
      metadata: message.metadata,
      providerMessageId: null,
      attempts: 0,
      error: null,
      createdAt: at,
      updatedAt: at,
      history: [{ status: "queued", at }],
    },
    nextAttemptAt: message.at.getTime(),
    leaseUntil: null,
  };
}

/**
 * A newly received inbound message: `received`, its only status. An inbound
 * message that did not say which of our numbers it reached has `to` "".
 */
export function receivedInbound(message: NewInboundMessage): StoredMessage {
  const at = message.at.toISOString();
  return {
    message: {
      id: message.id,
      direction: "inbound",
      status: "received",
      channel: message.channel,
      provider: message.provider,
      session: message.session,
      to: message.to ?? "",
      from: message.from,
      text: message.text,
      media: [...message.media],
      ...conversationOf(message),
      metadata: null,
      providerMessageId: message.providerMessageId,
      attempts: 0,
      error: null,
      createdAt: at,
      updatedAt: at,
      history: [{ status: "received", at }],
    },
    nextAttemptAt: null,
    leaseUntil: null,
  };
}

/** A new message's conversation facts: as given, else plain text or media. */
function conversationOf(message: NewOutboundMessage | NewInboundMessage): Conversation {
  return message.conversation ?? plainConversation(message.media.length > 0 ? "media" : "text");
}

/** The reason a cancelled message shows. */
export const CANCELLED: MessageError = {
  code: "message.cancelled",
  message: "deleted before it was sent",
  retryable: false,
};

/**
 * The message after `amendment`, or undefined when it does not apply: a
 * cancel of a message ever handed out to its provider (it may have reached
 * the recipient: it must be deleted for everyone instead), an edit or delete
 * of a deleted message.
 */
export function amended(stored: StoredMessage, amendment: Amendment, now: Date): StoredMessage | undefined {
  const m = stored.message;
  const at = now.toISOString();
  switch (amendment.kind) {
    case "edited":
      if (m.deletedAt !== null || amendment.text === m.text) return undefined;
      return { ...stored, message: { ...m, ...edited(m, m.text, now), text: amendment.text, updatedAt: at } };
    case "deleted":
      if (m.deletedAt !== null) return undefined;
      return { ...stored, message: { ...m, ...deleted(m, now), text: "", media: [], updatedAt: at } };
    case "cancelled":
      // Only a message never handed out: one that was (even if back in the queue after a retry or
      // a restart) may already be on the recipient's phone, and must be deleted for everyone instead.
      if (m.direction !== "outbound" || m.status !== "queued" || m.history.some((h) => h.status === "sending")) {
        return undefined;
      }
      return {
        message: {
          ...m,
          ...deleted(m, now),
          status: "failed",
          error: CANCELLED,
          updatedAt: at,
          history: [...m.history, { status: "failed", at }],
        },
        nextAttemptAt: null,
        leaseUntil: null,
      };
    case "target":
      return { ...stored, message: { ...m, target: amendment.target, updatedAt: at } };
  }
}

/**
 * The message with its attachments replaced (a file fetched from its URL,
 * an inbound download repaired); its status and queue state are unchanged.
 */
export function withMedia(stored: StoredMessage, media: readonly MessageMedia[], now: Date): StoredMessage {
  return { ...stored, message: { ...stored.message, media: [...media], updatedAt: now.toISOString() } };
}

/** The MediaStore ids of the files a message holds, once each: what media retention must keep for it. */
export function heldMediaIds(message: Pick<Message, "media">): string[] {
  return [...new Set(message.media.filter(isHeld).map((media) => media.id))];
}

/** A claimed message: `sending`, leased for `leaseMs` from `now` (a negative lease counts as none). */
export function afterClaim(stored: StoredMessage, leaseMs: number, now: Date): StoredMessage {
  return change(stored, { status: "sending", leaseUntil: now.getTime() + Math.max(0, leaseMs) }, now);
}

/**
 * An in-flight message put back in the queue without an attempt (its run was
 * cut short, or the gateway restarted while it was in flight): `queued`, due
 * at once, its attempts and error as they were.
 */
export function afterRequeue(stored: StoredMessage, now: Date): StoredMessage {
  return change(stored, { status: "queued", leaseUntil: null, nextAttemptAt: now.getTime() }, now);
}

/**
 * The provider id whose early status reports an attempt's outcome applies
 * (a `sent` outcome's), or undefined: the store takes those reports, and
 * forgets them, in the same commit as the outcome.
 */
export function earlyStatusesAppliedBy(stored: StoredMessage, outcome: AttemptOutcome): EarlyStatusKey | undefined {
  if (outcome.kind !== "sent") return undefined;
  return { provider: stored.message.provider, providerMessageId: outcome.providerMessageId };
}

/**
 * The message after an attempt's outcome. The attempt is counted, except a
 * `released` one (never attempted). The outcome decides the status only
 * while the message is still unfinished: a status a provider has already
 * reported is never undone, so on a message that left the queue a `retry` or
 * `failed` only counts the attempt, a `released` changes nothing (the very
 * object is returned), and a `sent` moves the status only forward.
 *
 * - `sent`: the outcome's status (`sent` unless the provider said more),
 *   the provider id stored, out of the queue; then `early`, the reports kept
 *   for that id (see {@link earlyStatusesAppliedBy}), in the order reported,
 *   each only if within the retention and where the status may move to it.
 * - `retry`: back to `queued` with the error, due at `nextAttemptAt`.
 * - `failed`: `failed` with the error, out of the queue.
 * - `released`: see {@link afterRequeue}.
 */
export function afterAttempt(
  stored: StoredMessage,
  outcome: AttemptOutcome,
  now: Date,
  early: readonly EarlyStatus[] = [],
  limits: EarlyStatusLimits = earlyStatusLimits(),
): StoredMessage {
  const inFlight = isUnfinished(stored.message.status);
  if (outcome.kind === "released") return inFlight ? afterRequeue(stored, now) : stored;
  const attempts = stored.message.attempts + 1;
  if (outcome.kind === "sent") {
    const target = outcome.status ?? "sent";
    const status = inFlight || canTransition(stored.message.status, target) ? target : stored.message.status;
    const sent = change(
      stored,
      { status, attempts, providerMessageId: outcome.providerMessageId, leaseUntil: null, nextAttemptAt: null },
      now,
    );
    return early.reduce((current, report) => {
      if (!isRetained(report, now, limits)) return current;
      if (!canTransition(current.message.status, report.status)) return current;
      return change(current, { status: report.status, ...(report.error ? { error: report.error } : {}) }, now);
    }, sent);
  }
  if (!inFlight) return change(stored, { attempts }, now);
  if (outcome.kind === "retry") {
    const nextAttemptAt = outcome.nextAttemptAt.getTime();
    return change(stored, { status: "queued", attempts, error: outcome.error, leaseUntil: null, nextAttemptAt }, now);
  }
  return change(
    stored,
    { status: "failed", attempts, error: outcome.error, leaseUntil: null, nextAttemptAt: null },
    now,
  );
}

/**
 * The message after a provider's status report that matched it, and the
 * statuses the report moved it through, oldest first (`statusesPassed`: a
 * read without a delivery receipt passes delivered). Never backwards: a report
 * the status may not move to (older than the current status, or the same
 * again) changes nothing, returns the very object and reaches nothing. A
 * report that applies takes the message out of the queue, keeps its error
 * unless the report brings one, and stores the report's provider id if the
 * message had none.
 */
export function afterStatusReport(
  stored: StoredMessage,
  update: StatusUpdate,
  now: Date,
): { readonly stored: StoredMessage; readonly reached: readonly MessageStatus[] } {
  const before = stored.message.status;
  if (!canTransition(before, update.status)) return { stored, reached: [] };
  const providerMessageId = stored.message.providerMessageId ?? update.providerMessageId ?? null;
  const next = change(
    stored,
    {
      status: update.status,
      providerMessageId,
      leaseUntil: null,
      nextAttemptAt: null,
      ...(update.error ? { error: update.error } : {}),
    },
    now,
  );
  return { stored: next, reached: statusesPassed(before, update.status) };
}

/** What one event changes; an absent field keeps its value. Times are epoch ms. */
interface Change {
  readonly status?: MessageStatus;
  readonly attempts?: number;
  /** Absent keeps the current error, except that a message that got through drops it. */
  readonly error?: MessageError;
  readonly providerMessageId?: string | null;
  readonly nextAttemptAt?: number | null;
  readonly leaseUntil?: number | null;
}

/** Applies a change at `now`: the history gets every status the move passes, and `updatedAt` is `now`. */
function change(stored: StoredMessage, c: Change, now: Date): StoredMessage {
  const m = stored.message;
  const status = c.status ?? m.status;
  const at = now.toISOString();
  const history: readonly StatusChange[] =
    status === m.status
      ? m.history
      : [...m.history, ...statusesPassed(m.status, status).map((s) => ({ status: s, at }))];
  return {
    message: {
      ...m,
      status,
      history,
      error: c.error ?? (GOT_THROUGH.includes(status) ? null : m.error),
      attempts: c.attempts ?? m.attempts,
      providerMessageId: c.providerMessageId !== undefined ? c.providerMessageId : m.providerMessageId,
      updatedAt: at,
    },
    nextAttemptAt: c.nextAttemptAt !== undefined ? c.nextAttemptAt : stored.nextAttemptAt,
    leaseUntil: c.leaseUntil !== undefined ? c.leaseUntil : stored.leaseUntil,
  };
}
