import type { RunCandidate } from "../../../domain/recipient-runs.ts";
import type { Param } from "../../shared/sqlite/statements.ts";
import type { MessageRow } from "./row-mapping.ts";

/** The columns an insert writes, in the order of {@link insertParams}. */
const INSERT_COLUMNS = [
  "id",
  "direction",
  "status",
  "channel",
  "provider",
  "session",
  "to_address",
  "from_address",
  "body",
  "media_urls",
  "media",
  "conversation",
  "metadata",
  "provider_message_id",
  "attempts",
  "error",
  "idempotency_key",
  "idempotency_fingerprint",
  "next_attempt_at",
  "lease_until",
  "head",
  "created_at",
  "updated_at",
  "history",
] as const;
export const COLUMNS = INSERT_COLUMNS.join(", ");
export const HEAD = INSERT_COLUMNS.indexOf("head");
export const COLUMN_SLOTS = INSERT_COLUMNS.map((column) => (column === "head" ? "@head" : "?")).join(", ");
/** 1 unless an earlier message to the same recipient is unfinished (parameters: provider, session, to). */
export const HEAD_OF_LINE = `NOT EXISTS (SELECT 1 FROM messages WHERE provider = ? AND session = ? AND to_address = ?
  AND status IN ('queued', 'sending'))`;

export function insertParams(row: Omit<MessageRow, "seq">): Param[] {
  return INSERT_COLUMNS.map((column) => row[column]);
}

/** A row as run selection sees it, the row kept for the write that leases it. */
export interface RowCandidate extends RunCandidate {
  readonly row: MessageRow;
}

export function candidate(row: MessageRow): RowCandidate {
  const { seq, status, next_attempt_at: nextAttemptAt, lease_until: leaseUntil } = row;
  return { seq, message: { status }, nextAttemptAt, leaseUntil, row };
}
