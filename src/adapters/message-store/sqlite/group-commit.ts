import { setImmediate } from "node:timers";

/** The few transaction statements group commit needs, so it can be tested without a database. */
export interface TransactionControl {
  /** Starts a write transaction (BEGIN IMMEDIATE: take the write lock now, not at the first write). */
  begin(): void;
  commit(): void;
  rollback(): void;
  savepoint(): void;
  releaseSavepoint(): void;
  rollbackToSavepoint(): void;
  /** False once SQLite has rolled the transaction back by itself (I/O error, disk full). */
  readonly inTransaction: boolean;
}

export interface GroupCommitOptions {
  /** Most units of work per transaction; bounds how long one commit blocks the event loop. */
  readonly maxBatchSize?: number;
  /** How the flush is deferred; the default waits for the rest of this event-loop turn. */
  readonly schedule?: (flush: () => void) => void;
}

interface Pending {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Runs synchronous units of database work in shared transactions, so many
 * writers pay for one commit (one fsync) instead of one each.
 *
 * Work submitted during one event-loop turn is flushed together from a
 * `setImmediate` callback. `setImmediate` rather than a microtask on purpose:
 * Node drains microtasks after every I/O callback, so a microtask flush would
 * commit each HTTP request on its own; the check phase runs once the poll
 * phase has handled every request that arrived in this turn.
 *
 * Guarantees:
 * - a promise resolves only after the transaction holding its work committed;
 * - each unit runs inside a savepoint: a unit that throws is rolled back alone
 *   and only its caller is rejected (one bad request does not fail its
 *   neighbours), and it leaves nothing behind;
 * - if the transaction itself fails (BEGIN or COMMIT fails, or SQLite aborts
 *   it), nothing of the batch is kept and every caller of the batch is
 *   rejected: a batch never partially commits.
 */
export class GroupCommit {
  readonly #tx: TransactionControl;
  readonly #maxBatchSize: number;
  readonly #schedule: (flush: () => void) => void;
  #queue: Pending[] = [];
  #scheduled = false;
  #closedError: (() => Error) | undefined;

  constructor(tx: TransactionControl, options: GroupCommitOptions = {}) {
    this.#tx = tx;
    this.#maxBatchSize = Math.max(1, Math.floor(options.maxBatchSize ?? 1000));
    this.#schedule = options.schedule ?? ((flush) => setImmediate(flush));
  }

  /** Queues `work` for the next group transaction; resolves with its result once committed. */
  run<T>(work: () => T): Promise<T> {
    if (this.#closedError) return Promise.reject(this.#closedError());
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        this.#schedule(() => this.flush());
      }
    });
  }

  /** Commits everything queued so far, in batches of at most `maxBatchSize`. */
  flush(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      this.#commitBatch(this.#queue.splice(0, this.#maxBatchSize));
    }
  }

  /** Flushes what is queued, then refuses new work with `closedError()`. */
  close(closedError: () => Error): void {
    this.flush();
    this.#closedError = closedError;
  }

  #commitBatch(batch: readonly Pending[]): void {
    const succeeded: { item: Pending; value: unknown }[] = [];
    const failed: { item: Pending; error: unknown }[] = [];
    try {
      this.#tx.begin();
      for (const item of batch) {
        this.#tx.savepoint();
        try {
          succeeded.push({ item, value: item.work() });
          this.#tx.releaseSavepoint();
        } catch (error) {
          // SQLite rolls the whole transaction back on some errors (I/O, disk
          // full); then there is no savepoint to return to and the batch is lost.
          if (!this.#tx.inTransaction) throw error;
          this.#tx.rollbackToSavepoint();
          this.#tx.releaseSavepoint();
          if (succeeded.at(-1)?.item === item) succeeded.pop();
          failed.push({ item, error });
        }
      }
      this.#tx.commit();
    } catch (error) {
      this.#abort(error);
      for (const item of batch) item.reject(error);
      return;
    }
    for (const { item, value } of succeeded) item.resolve(value);
    for (const { item, error } of failed) item.reject(error);
  }

  #abort(cause: unknown): void {
    if (!this.#tx.inTransaction) return;
    try {
      this.#tx.rollback();
    } catch (rollbackError) {
      // Every caller is rejected with `cause`; keep the rollback failure
      // attached to it rather than dropping it.
      if (cause instanceof Error && cause.cause === undefined) {
        Object.defineProperty(cause, "cause", { value: rollbackError, configurable: true });
      }
    }
  }
}
