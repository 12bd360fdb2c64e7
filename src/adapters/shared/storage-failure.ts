import { StoreUnavailableError } from "../../domain/errors.ts";

/**
 * SQLite result codes (as libsql names them in `code`, extended codes
 * included: `SQLITE_IOERR_WRITE`) and errno codes (Node's `fs`) that mean the
 * storage under a store failed, not the request: what to tell an operator.
 */
const SQLITE_REASONS: ReadonlyArray<readonly [prefix: string, reason: string]> = [
  ["SQLITE_FULL", "the disk is full"],
  ["SQLITE_IOERR", "an I/O error on the disk"],
  ["SQLITE_READONLY", "the database cannot be written (read-only filesystem or file)"],
  ["SQLITE_CANTOPEN", "a database file could not be opened (disk full or gone)"],
];
const ERRNO_REASONS: Readonly<Record<string, string>> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is exhausted",
  EIO: "an I/O error on the disk",
  EROFS: "the filesystem is read-only",
};

/**
 * Why `error` says the storage failed (e.g. "the disk is full (SQLITE_FULL:
 * database or disk is full)"), or undefined when it is another kind of error
 * (a bug, a constraint, a domain error), which must pass through unchanged.
 */
export function storageFailureReason(error: unknown): string | undefined {
  if (error instanceof StoreUnavailableError) return error.reason;
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return undefined;
  const message = error instanceof Error ? error.message : "";
  const sqlite = SQLITE_REASONS.find(([prefix]) => code === prefix || code.startsWith(`${prefix}_`));
  const reason = sqlite?.[1] ?? ERRNO_REASONS[code];
  if (reason === undefined) return undefined;
  return message && !message.includes(code) ? `${reason} (${code}: ${message})` : `${reason} (${message || code})`;
}

/**
 * `error` as a {@link StoreUnavailableError} of `store` when the storage
 * failed (disk full, I/O error, read-only filesystem), else `error` itself.
 */
export function asStoreError(store: string, error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const reason = storageFailureReason(error);
  return reason === undefined ? error : new StoreUnavailableError(store, reason, undefined, { cause: error });
}
