import type { MessageError } from "./errors.ts";
import type { ProviderStatus } from "./message-status.ts";
import type { StatusUpdate } from "./ports/message-store.port.ts";

// A provider may report on a message before recordAttempt has stored the
// provider id it names (a receipt can beat the send's own acknowledgement),
// so a store keeps such a report for recordAttempt to apply. Most unmatched
// reports never match anything (receipts for messages the phone itself or
// another system sent on the same account): what is kept is bounded by age
// and by count.

export const DEFAULT_EARLY_STATUS_RETENTION_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_EARLY_STATUSES = 10_000;

/** A store's settings for early statuses, as its options name them. */
export interface EarlyStatusOptions {
  /** How long a status report that matched no message is kept for `recordAttempt` (default 24 h). */
  readonly earlyStatusRetentionMs?: number;
  /** Most such reports kept, the oldest dropped first (default 10,000). */
  readonly maxEarlyStatuses?: number;
}

export interface EarlyStatusLimits {
  /** How long a report is kept (ms); an older one is neither applied nor kept. */
  readonly retentionMs: number;
  /** Most reports kept; the oldest go first. */
  readonly max: number;
}

/** Which message a kept report waits for: the provider and the id it will store. */
export interface EarlyStatusKey {
  readonly provider: string;
  readonly providerMessageId: string;
}

/** A status report kept until the message it names gets its provider id. */
export interface EarlyStatus extends EarlyStatusKey {
  readonly status: ProviderStatus;
  readonly error: MessageError | undefined;
  /** When it was reported, epoch milliseconds. */
  readonly reportedAt: number;
}

/** The limits a store's options ask for, defaults filled in and nonsense (negative, fractional) clamped. */
export function earlyStatusLimits(options: EarlyStatusOptions = {}): EarlyStatusLimits {
  return {
    retentionMs: Math.max(0, options.earlyStatusRetentionMs ?? DEFAULT_EARLY_STATUS_RETENTION_MS),
    max: Math.max(0, Math.floor(options.maxEarlyStatuses ?? DEFAULT_MAX_EARLY_STATUSES)),
  };
}

/**
 * The report to keep when `update` matched no message, or undefined when it
 * must not be kept: a report that names only our message id can never match
 * later (no write adds our id to a message), a provider id can, once
 * `recordAttempt` stores it.
 */
export function earlyStatusToKeep(update: StatusUpdate, now: Date): EarlyStatus | undefined {
  if (update.providerMessageId === undefined) return undefined;
  return {
    provider: update.provider,
    providerMessageId: update.providerMessageId,
    status: update.status,
    error: update.error,
    reportedAt: now.getTime(),
  };
}

/** The oldest report time (epoch ms) still within the retention at `now`: anything reported before it is dropped. */
export function oldestKept(now: Date, limits: EarlyStatusLimits): number {
  return now.getTime() - limits.retentionMs;
}

/** Whether a kept report may still be applied at `now`. */
export function isRetained(early: EarlyStatus, now: Date, limits: EarlyStatusLimits): boolean {
  return early.reportedAt >= oldestKept(now, limits);
}

/**
 * The reports to keep after `report` joins `kept` (oldest first): those past
 * the retention dropped, then the oldest beyond `max`. For a store that
 * holds them as a list; a database may prune with range deletes instead, as
 * long as it keeps no more and none older.
 */
export function keepEarlyStatus(
  kept: readonly EarlyStatus[],
  report: EarlyStatus,
  now: Date,
  limits: EarlyStatusLimits,
): EarlyStatus[] {
  const next = [...kept.filter((early) => isRetained(early, now, limits)), report];
  return next.length > limits.max ? next.slice(next.length - limits.max) : next;
}
