import type Database from "libsql";
import type { MessageError } from "../../../domain/errors.ts";
import type { ProviderStatus } from "../../../domain/message-status.ts";

export const DEFAULT_EARLY_STATUS_RETENTION_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_EARLY_STATUSES = 10_000;

/** A status report kept until the message it names gets its provider id. */
export interface EarlyStatus {
  readonly status: ProviderStatus;
  readonly error: MessageError | undefined;
}

export interface EarlyStatusLimits {
  /** How long a report is kept (ms); an older one is neither applied nor kept. */
  readonly retentionMs: number;
  /** Most reports kept; the oldest go first. */
  readonly max: number;
}

interface EarlyStatusRow {
  readonly status: ProviderStatus;
  readonly error: string | null;
  readonly reported_at: number;
}

/**
 * The `early_statuses` table: reports that matched no message because
 * `recordAttempt` had not stored the provider id yet (a receipt can beat the
 * send's own acknowledgement). Every method runs inside the caller's group
 * commit unit, so a report is kept, or applied and forgotten, in the same
 * transaction as the write that decided it.
 *
 * Most unmatched reports never match anything (receipts for messages sent by
 * the phone itself or by another system on the same account), so keeping
 * one must stay cheap however many are kept: both prunes are index range
 * deletes, never a scan or a count.
 */
export class EarlyStatuses {
  readonly #statement: (sql: string) => Database.Statement;
  readonly #retentionMs: number;
  readonly #max: number;

  constructor(statement: (sql: string) => Database.Statement, limits: EarlyStatusLimits) {
    this.#statement = statement;
    this.#retentionMs = Math.max(0, limits.retentionMs);
    this.#max = Math.max(0, Math.floor(limits.max));
  }

  /** Keeps a report, pruning reports past the retention and beyond the cap. */
  keep(
    provider: string,
    providerMessageId: string,
    status: ProviderStatus,
    error: MessageError | undefined,
    now: number,
  ): void {
    this.#statement("DELETE FROM early_statuses WHERE reported_at < ?").run([now - this.#retentionMs]);
    const result = this.#statement(
      "INSERT INTO early_statuses (provider, provider_message_id, status, error, reported_at) VALUES (?, ?, ?, ?, ?)",
    ).run([provider, providerMessageId, status, error === undefined ? null : JSON.stringify(error), now]);
    // The newest row has the largest seq, so the rows within `max` seqs of it
    // are at most `max` reports, the newest. A report applied and forgotten
    // leaves a gap that still counts until it leaves that window: the cap may
    // drop a report a little early, in exchange for not counting rows.
    this.#statement("DELETE FROM early_statuses WHERE seq <= ?").run([Number(result.lastInsertRowid) - this.#max]);
  }

  /**
   * Removes every report kept for this provider id and returns those still
   * within the retention, in the order they were reported.
   */
  take(provider: string, providerMessageId: string, now: number): EarlyStatus[] {
    const rows = this.#statement(
      `SELECT status, error, reported_at FROM early_statuses WHERE provider = ? AND provider_message_id = ?
       ORDER BY seq`,
    ).all([provider, providerMessageId]) as EarlyStatusRow[];
    if (rows.length === 0) return [];
    this.#statement("DELETE FROM early_statuses WHERE provider = ? AND provider_message_id = ?").run([
      provider,
      providerMessageId,
    ]);
    const oldest = now - this.#retentionMs;
    return rows
      .filter((row) => row.reported_at >= oldest)
      .map((row) => ({
        status: row.status,
        error: row.error === null ? undefined : (JSON.parse(row.error) as MessageError),
      }));
  }
}
