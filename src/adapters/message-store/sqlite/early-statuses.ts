import type Database from "libsql";
import {
  oldestKept,
  type EarlyStatus,
  type EarlyStatusKey,
  type EarlyStatusLimits,
} from "../../../domain/early-statuses.ts";
import type { MessageError } from "../../../domain/errors.ts";
import type { ProviderStatus } from "../../../domain/message-status.ts";

interface EarlyStatusRow {
  readonly status: ProviderStatus;
  readonly error: string | null;
  readonly reported_at: number;
}

/**
 * The `early_statuses` table: the reports the domain's early-status policy
 * keeps (see domain/early-statuses.ts). Every method runs inside the
 * caller's group commit unit, so a report is kept, or taken and applied, in
 * the same transaction as the write that decided it.
 *
 * Keeping a report must stay cheap however many are kept: both prunes are
 * index range deletes, never a scan or a count.
 */
export class EarlyStatuses {
  readonly #statement: (sql: string) => Database.Statement;
  readonly #limits: EarlyStatusLimits;

  constructor(statement: (sql: string) => Database.Statement, limits: EarlyStatusLimits) {
    this.#statement = statement;
    this.#limits = limits;
  }

  /** Keeps a report, pruning reports past the retention and beyond the cap. */
  keep(report: EarlyStatus, now: Date): void {
    this.#statement("DELETE FROM early_statuses WHERE reported_at < ?").run([oldestKept(now, this.#limits)]);
    const result = this.#statement(
      "INSERT INTO early_statuses (provider, provider_message_id, status, error, reported_at) VALUES (?, ?, ?, ?, ?)",
    ).run([
      report.provider,
      report.providerMessageId,
      report.status,
      report.error === undefined ? null : JSON.stringify(report.error),
      report.reportedAt,
    ]);
    // The newest row has the largest seq, so the rows within `max` seqs of it
    // are at most `max` reports, the newest. A report taken leaves a gap that
    // still counts until it leaves that window: the cap may drop a report a
    // little early, in exchange for not counting rows.
    this.#statement("DELETE FROM early_statuses WHERE seq <= ?").run([
      Number(result.lastInsertRowid) - this.#limits.max,
    ]);
  }

  /** Removes every report kept for this provider id and returns them in the order they were reported. */
  take(key: EarlyStatusKey): EarlyStatus[] {
    const params = [key.provider, key.providerMessageId];
    const rows = this.#statement(
      `SELECT status, error, reported_at FROM early_statuses WHERE provider = ? AND provider_message_id = ?
       ORDER BY seq`,
    ).all(params) as EarlyStatusRow[];
    if (rows.length === 0) return [];
    this.#statement("DELETE FROM early_statuses WHERE provider = ? AND provider_message_id = ?").run(params);
    return rows.map((row) => ({
      ...key,
      status: row.status,
      error: row.error === null ? undefined : (JSON.parse(row.error) as MessageError),
      reportedAt: row.reported_at,
    }));
  }
}
