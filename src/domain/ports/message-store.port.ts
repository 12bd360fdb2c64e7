import { injectionToken, type InjectionToken } from "../injection-token.ts";
import type { MessageError } from "../errors.ts";
import type { MessageTarget } from "../conversation.ts";
import type { MessageMedia } from "../media.ts";
import type { Direction, Message, NewInboundMessage, NewOutboundMessage, Route } from "../message.ts";
import type { MessageStatus, ProviderStatus } from "../message-status.ts";

export type EnqueueResult =
  | { readonly kind: "created"; readonly message: Message }
  /** Same Idempotency-Key and same request: the message accepted the first time. */
  | { readonly kind: "existing"; readonly message: Message }
  /** Same Idempotency-Key, different request. */
  | { readonly kind: "conflict"; readonly message: Message };

/** A change to a message that is not a status move (see `amended` in message-lifecycle.ts). */
export type Amendment =
  /** Its text was replaced (an edit received, or ours sent): the old one is kept in `edits`. */
  | { readonly kind: "edited"; readonly text: string }
  /** Deleted for everyone: the record stays, its text and files go. */
  | { readonly kind: "deleted" }
  /** A queued message of ours never handed out to a provider, deleted: it fails and is never sent. */
  | { readonly kind: "cancelled" }
  /** The message it refers to, as the provider needs it, found when it is sent. */
  | { readonly kind: "target"; readonly target: MessageTarget };

/** How one send attempt ended. */
export type AttemptOutcome =
  | { readonly kind: "sent"; readonly providerMessageId: string; readonly status?: ProviderStatus }
  | { readonly kind: "retry"; readonly error: MessageError; readonly nextAttemptAt: Date }
  | { readonly kind: "failed"; readonly error: MessageError }
  /**
   * Never attempted: an earlier message to the same recipient, claimed in the
   * same run, did not go out, so this one must not overtake it. Back to
   * `queued`, due at once; not counted as an attempt.
   */
  | { readonly kind: "released" };

/** A status report from a provider, matched by the provider's message id or by ours. */
export interface StatusUpdate {
  readonly provider: string;
  readonly providerMessageId?: string;
  readonly messageId?: string;
  readonly status: ProviderStatus;
  readonly error?: MessageError;
}

/** What a status report did to the message it matched. */
export interface StatusApplied {
  /** The message after the report. */
  readonly message: Message;
  /** The statuses the report moved it through, oldest first (see `statusesPassed`); empty when it changed nothing. */
  readonly reached: readonly MessageStatus[];
}

export interface ListFilter {
  readonly direction?: Direction;
  readonly status?: MessageStatus;
  readonly session?: string;
  readonly limit: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  readonly cursor?: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

export interface QueueDepth extends Route {
  readonly depth: number;
  /** Age of the oldest waiting message, 0 when none waits. */
  readonly oldestAgeMs: number;
}

/**
 * The durable outbound queue and the history of every message.
 * A method resolves only once its change is committed.
 */
export interface MessageStore {
  /**
   * Commits a new outbound message in status `queued`. Idempotent by
   * `idempotency.key`: the same key with the same fingerprint returns the first
   * message (`existing`), with another fingerprint `conflict`; nothing is written.
   */
  enqueue(message: NewOutboundMessage): Promise<EnqueueResult>;

  /**
   * Moves up to `limit` due messages of one route from `queued` to `sending`
   * and returns them in FIFO order. Per recipient, it hands out a run: the
   * oldest unfinished message and the ones right after it, at most `window`
   * (default 1) and only while each is due; never while an earlier message
   * of the recipient is in flight or waiting for its retry. So a recipient's
   * messages go out in acceptance order, one run at a time, and a run is the
   * most a dispatcher ever has in flight to one recipient.
   * `sending` holds a lease: a message whose lease ran out (its worker died)
   * is handed out again, with the rest of its run.
   */
  claim(route: Route, limit: number, leaseMs: number, now: Date, window?: number): Promise<Message[]>;

  /**
   * Records the outcome of an attempt on a claimed message and counts the
   * attempt (a `released` message was not attempted: nothing is counted).
   * A `sent` outcome also applies, in the same commit, the early status
   * reports kept for its provider id (see {@link applyStatus}) and not yet past
   * their retention, in the order they were reported, each only where the
   * status may move to it (`canTransition`); they are then forgotten. The
   * returned message has the resulting status and history.
   */
  recordAttempt(id: string, outcome: AttemptOutcome, now: Date): Promise<Message>;

  /**
   * Applies a provider status report. Never moves a status backwards: a
   * report older than the current status, or the same status again, changes
   * nothing (`reached` is empty). The history gets every status the move
   * implies (`statusesPassed`: read without delivered records both). Returns
   * the message and what was reached, or undefined when no message matches.
   *
   * A provider may report on a message before `recordAttempt` has stored its
   * provider id. So a report with a `providerMessageId` that matches no message
   * is kept as an early status, durably in the same commit, for
   * `recordAttempt` to apply; it still returns undefined. Kept reports are
   * bounded: dropped once older than a retention (24 h by default), and at
   * most a fixed number (10,000 by default) are kept, the oldest dropped
   * first. A report that names only our `messageId` and matches nothing is
   * not kept: no later write could match it.
   */
  applyStatus(update: StatusUpdate, now: Date): Promise<StatusApplied | undefined>;

  /** Records an inbound message once; a redelivery (same provider id) returns the first. */
  recordInbound(message: NewInboundMessage): Promise<{ readonly message: Message; readonly created: boolean }>;

  /**
   * Replaces a message's attachments (a file fetched from its URL is now
   * held; an inbound download that failed was retried), keeping their
   * order. Returns the updated message, or undefined for an unknown id.
   */
  updateMedia(id: string, media: readonly MessageMedia[], now: Date): Promise<Message | undefined>;

  /**
   * Applies a change that is not a status move (an edit, a delete for
   * everyone, the cancel of a queued message, the target found at send
   * time; see `amended`), atomically with reading the message. Returns the
   * message after it and whether it changed; undefined for an unknown id.
   */
  amend(
    id: string,
    amendment: Amendment,
    now: Date,
  ): Promise<{ readonly message: Message; readonly changed: boolean } | undefined>;

  /** The newest message of a provider with this provider id (either direction), if any. */
  findByProviderMessageId(provider: string, providerMessageId: string): Promise<Message | undefined>;

  /**
   * Whether a message still needs the held file `mediaId`: one that is
   * waiting or in flight, or one changed at or after `since` (retention
   * keeps the files of recent messages).
   */
  mediaInUse(mediaId: string, since: Date): Promise<boolean>;

  /** Puts every in-flight (`sending`) message back to `queued`: called at start, before dispatching. */
  requeueInFlight(now: Date): Promise<number>;

  get(id: string): Promise<Message | undefined>;

  /** Newest first, filtered, paged by an opaque cursor. */
  list(filter: ListFilter): Promise<Page<Message>>;

  /**
   * Messages last changed at or after `since`, the oldest change first (ties
   * in acceptance order), paged by an opaque cursor: what the webhook
   * catch-up reads after a crash.
   */
  changedSince(since: Date, limit: number, cursor?: string): Promise<Page<Message>>;
  /** Routes that have messages waiting (queued or in flight), with their depth. */
  queueDepths(now: Date): Promise<QueueDepth[]>;

  /**
   * Earliest moment `claim` could hand out a message of this route, if any
   * waits: the soonest of each recipient's oldest unfinished message (a queued
   * one's next attempt, an in-flight one's lease expiry). Messages queued
   * behind another to the same recipient do not count: they are not
   * claimable, so counting them would wake the dispatcher for nothing.
   */
  nextDueAt(route: Route): Promise<Date | undefined>;

  /** Cheap round trip proving the store answers (readiness). */
  ping(): Promise<void>;

  /** Flushes and releases the store. */
  close(): Promise<void>;
}

export const MessageStore: InjectionToken<MessageStore> = injectionToken("MessageStore");
