import { setImmediate } from "node:timers";

/** The few transaction statements group commit needs, so it can be tested without a database. */
export interface TransactionControl {
  /**
   * Starts a write transaction (BEGIN IMMEDIATE: take the write lock now, not
   * at the first write). `durable` false: the caller accepts that this commit
   * may be lost to a power failure (never to a crash of the process).
   */
  begin(durable: boolean): void;
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
  /**
   * Durability done outside the transaction (see `WalSync`): after the
   * commit of a durable batch its callers wait for `request()`, those of any
   * other batch for `settled()`, so no batch is answered before the durable
   * batches committed ahead of it. Absent: callers are answered at COMMIT.
   */
  readonly durability?: { request(): Promise<void>; settled(): Promise<void> };
}

interface Pending {
  readonly work: () => unknown;
  readonly durable: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Settled =
  | { readonly ok: true; readonly item: Pending; readonly value: unknown }
  | { readonly ok: false; readonly item: Pending; readonly error: unknown };

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
 * - a promise resolves only after the transaction holding its work committed
 *   (and, with `durability`, after that commit was made durable);
 * - a unit that throws is rolled back alone and only its caller is rejected
 *   (one bad request does not fail its neighbours); it leaves nothing behind;
 * - if the transaction itself fails (BEGIN or COMMIT fails, or SQLite aborts
 *   it), nothing of the batch is kept and every caller of the batch is
 *   rejected: a batch never partially commits.
 */
export class GroupCommit {
  readonly #tx: TransactionControl;
  readonly #maxBatchSize: number;
  readonly #schedule: (flush: () => void) => void;
  readonly #durability: GroupCommitOptions["durability"];
  #queue: Pending[] = [];
  #scheduled = false;
  #closedError: (() => Error) | undefined;

  constructor(tx: TransactionControl, options: GroupCommitOptions = {}) {
    this.#tx = tx;
    this.#maxBatchSize = Math.max(1, Math.floor(options.maxBatchSize ?? 1000));
    this.#schedule = options.schedule ?? ((flush) => setImmediate(flush));
    this.#durability = options.durability;
  }

  /**
   * Queues `work` for the next group transaction; resolves with its result
   * once committed. `work` may run more than once (a batch in which a unit
   * failed is run again with each unit isolated), so it must act only on the
   * database. A batch is committed durably when any of its units asks for it
   * (the default); `durable: false` is for work whose loss on power failure
   * is harmless (a lease that would simply be taken again).
   */
  run<T>(work: () => T, options: { durable?: boolean } = {}): Promise<T> {
    if (this.#closedError) return Promise.reject(this.#closedError());
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        work,
        durable: options.durable ?? true,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
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
    let settled: Settled[];
    try {
      settled = this.#attempt(batch, false) ?? this.#attempt(batch, true)!;
      this.#tx.commit();
    } catch (error) {
      this.#abort(error);
      for (const item of batch) item.reject(error);
      return;
    }
    const answer = (syncError?: unknown): void => {
      for (const outcome of settled) {
        if (!outcome.ok) outcome.item.reject(outcome.error);
        else if (syncError !== undefined) outcome.item.reject(syncError);
        else outcome.item.resolve(outcome.value);
      }
    };
    const durability = this.#durability;
    if (durability === undefined) return answer();
    const barrier = batch.some((item) => item.durable) ? durability.request() : durability.settled();
    barrier.then(
      () => answer(),
      (error: unknown) => answer(error),
    );
  }

  /**
   * Runs the batch in a fresh transaction, leaving it open for the commit.
   * Without `isolate`, units run bare (a savepoint per unit costs two extra
   * statements, about a quarter of an enqueue) and the first unit that throws
   * rolls everything back and returns undefined, for a second run with
   * `isolate`, where each unit has its own savepoint. Errors are rare, so the
   * common batch pays for no savepoint at all.
   */
  #attempt(batch: readonly Pending[], isolate: boolean): Settled[] | undefined {
    this.#tx.begin(batch.some((item) => item.durable));
    const settled: Settled[] = [];
    for (const item of batch) {
      if (isolate) this.#tx.savepoint();
      let value: unknown;
      try {
        value = item.work();
      } catch (error) {
        // SQLite rolls the whole transaction back on some errors (I/O, disk
        // full); then there is no savepoint to return to and the batch is lost.
        if (!this.#tx.inTransaction) throw error;
        if (!isolate) {
          this.#tx.rollback();
          return undefined;
        }
        this.#tx.rollbackToSavepoint();
        this.#tx.releaseSavepoint();
        settled.push({ ok: false, item, error });
        continue;
      }
      if (isolate) this.#tx.releaseSavepoint();
      settled.push({ ok: true, item, value });
    }
    return settled;
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
