import { DomainError, StoreUnavailableError } from "../../../domain/errors.ts";
import type { Logger } from "../../../domain/ports/logger.port.ts";
import type { StoreHealth } from "../../../domain/ports/session-store.port.ts";
import { DurableDatabase, type DurableDatabaseOptions } from "../../shared/sqlite/durable-database.ts";
import type { PreparedStatements } from "../../shared/sqlite/statements.ts";

/** A storage failure (disk full, I/O error, failed sync): the caller may retry later. */
export function storeUnavailable(what: string, cause: unknown): DomainError {
  const reason = cause instanceof Error ? cause.message.split("\n")[0]!.slice(0, 200) : String(cause);
  const error = new DomainError("STORE.UNAVAILABLE", `session store ${what} failed: ${reason}`);
  Object.defineProperty(error, "cause", { value: cause, configurable: true });
  return error;
}

/**
 * An I/O error may leave the connection unsure of its files: reopen. A full
 * disk does not (SQLite rolled back), and a failed WAL sync is recovered by
 * the database itself at its next write.
 */
function mustReopen(error: unknown): boolean {
  const cause = error instanceof StoreUnavailableError ? (error as { cause?: unknown }).cause : error;
  if (error instanceof StoreUnavailableError && cause === undefined) return false;
  const code = (cause as { code?: unknown } | null)?.code;
  return typeof code !== "string" || !code.startsWith("SQLITE_") || code.startsWith("SQLITE_IOERR");
}

/**
 * The session store's database, reopened after a storage failure instead of
 * staying stopped until the process restarts.
 *
 * Every failed call is rejected with `STORE.UNAVAILABLE`. A disk that is
 * full (SQLITE_FULL) leaves the connection sound: SQLite rolled the
 * transaction back, and the next write simply tries again. A
 * {@link DurableDatabase} whose WAL sync failed refuses every later write (a
 * retried fsync can claim success over pages the kernel dropped), and a
 * connection that hit an I/O error may be unsure of its files: those are
 * retired (closed) and the next call opens a fresh connection, which SQLite
 * recovers from its WAL: what was acknowledged is there, what failed is not
 * (or, when only the sync failed, may be). While the disk stays broken each
 * call fails the same way; the first call after it works again succeeds,
 * with no restart.
 */
export class HealingDatabase {
  readonly #options: DurableDatabaseOptions;
  readonly #logger: Logger;
  readonly #isOwnError: (error: unknown) => boolean;
  #current: DurableDatabase | undefined;
  #retiring: Promise<void> = Promise.resolve();
  #failure: { readonly message: string; readonly since: string } | undefined;
  #closed = false;

  /**
   * Opens the database now: a store that cannot open at start is a
   * configuration problem, reported at once. Errors the store's own work
   * throws on purpose (`isOwnError`) reach its callers as they are; any other
   * failure is a storage failure: `STORE.UNAVAILABLE`, and a reopen.
   */
  constructor(options: DurableDatabaseOptions, logger: Logger, isOwnError: (error: unknown) => boolean) {
    this.#options = options;
    this.#logger = logger;
    this.#isOwnError = isOwnError;
    this.#current = new DurableDatabase(options);
  }

  /** `ok`, or `degraded` from a failed call until a write succeeds again. */
  health(): StoreHealth {
    if (this.#failure === undefined) return { status: "ok" };
    return {
      status: "degraded",
      detail: `session store failing since ${this.#failure.since}: ${this.#failure.message}`,
    };
  }

  /** Runs synchronous reads on the open connection (reopening it first if it was retired). */
  async read<T>(work: (database: DurableDatabase) => T): Promise<T> {
    const database = await this.#open();
    try {
      return work(database);
    } catch (error) {
      throw this.#failed(database, "read", error);
    }
  }

  /** Runs `work` in the group commit; resolves once it is durable. */
  async write<T>(work: (sql: PreparedStatements) => T): Promise<T> {
    const database = await this.#open();
    try {
      const result = await database.run(() => work(database.statements));
      this.#recovered();
      return result;
    } catch (error) {
      throw this.#failed(database, "write", error);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const current = this.#current;
    this.#current = undefined;
    await this.#retiring;
    await current?.close();
  }

  async #open(): Promise<DurableDatabase> {
    if (this.#closed) throw this.#options.closedError();
    if (this.#current !== undefined) return this.#current;
    await this.#retiring;
    if (this.#closed) throw this.#options.closedError();
    try {
      this.#current ??= new DurableDatabase(this.#options);
    } catch (error) {
      this.#record("reopen", error);
      throw storeUnavailable("reopen", error);
    }
    this.#logger.info({ path: this.#options.path }, "session store reopened after a storage failure");
    return this.#current;
  }

  #failed(database: DurableDatabase, what: string, error: unknown): unknown {
    const storageFailure = error instanceof StoreUnavailableError;
    if (!storageFailure && (error instanceof DomainError || this.#isOwnError(error))) return error;
    this.#record(what, error);
    // A full disk leaves the connection sound (SQLite rolled the transaction
    // back), and closing it would checkpoint onto that full disk; keep it.
    if (this.#current === database && mustReopen(error)) {
      this.#current = undefined;
      this.#retiring = this.#retiring
        .then(() => database.close())
        .catch((closeError: unknown) =>
          this.#logger.warn({ err: String(closeError) }, "closing the failed session store connection failed"),
        );
    }
    return storageFailure ? error : storeUnavailable(what, error);
  }

  #record(what: string, error: unknown): void {
    const message = error instanceof Error ? error.message.split("\n")[0]!.slice(0, 200) : String(error);
    this.#failure = { message: `${what}: ${message}`, since: this.#failure?.since ?? new Date().toISOString() };
    this.#logger.error({ err: message, path: this.#options.path }, `session store ${what} failed; will reopen`);
  }

  #recovered(): void {
    if (this.#failure === undefined) return;
    this.#logger.info({ path: this.#options.path }, "session store writes succeed again");
    this.#failure = undefined;
  }
}
