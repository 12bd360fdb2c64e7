import type { Logger } from "../domain/ports/logger.port.ts";
import { isStorageOutage, outageRetryDelayMs } from "./store-outage.ts";

/** Most writes held in memory during an outage by default; past it the oldest go. */
const MAX_HELD = 10_000;

export interface HeldWritesOptions<T, R> {
  /** The write a storage outage refused (the outbox's enqueue, the event log's append). */
  readonly write: (item: T) => Promise<R>;
  /** Called, in order, for each held item once written. */
  readonly onWritten?: (item: T, result: R) => void;
  /** Called after a drain wrote some (the worker looks at the store again). */
  readonly onDrained?: () => void;
  /** What is held, for the log lines ("webhook events"). */
  readonly what: string;
  readonly logger: Logger;
  /** Most items held (default 10,000); past it the oldest go, with one error logged per outage. */
  readonly max?: number;
}

/**
 * Writes a store refused because its storage failed (disk full), kept in
 * memory in the order they came and written again, oldest first, once the
 * store can write: an outage delays them, it does not drop them. While any
 * is held the caller puts later items behind them (`hold`), so the order is
 * kept. Memory is bounded by `max`.
 */
export class HeldWrites<T, R = unknown> {
  readonly #held: T[] = [];
  readonly #options: HeldWritesOptions<T, R>;
  readonly #max: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #draining = false;
  #attempt = 0;
  #dropped = 0;
  #stopped = false;

  constructor(options: HeldWritesOptions<T, R>) {
    this.#options = options;
    this.#max = options.max ?? MAX_HELD;
  }

  /** How many wait. */
  get size(): number {
    return this.#held.length;
  }

  /** Keeps an item to write later. */
  hold(item: T): void {
    if (this.#stopped) return;
    if (this.#held.length >= this.#max) {
      this.#held.shift();
      if (this.#dropped++ === 0)
        this.#options.logger.error(
          { max: this.#max },
          `too many ${this.#options.what} held during a store outage; dropping the oldest`,
        );
    }
    this.#held.push(item);
    if (!this.#draining && this.#timer === undefined) this.#schedule();
  }

  /** Stops trying; returns how many were still held (lost to this process). */
  stop(): number {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#held.length;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#drain();
    }, outageRetryDelayMs(++this.#attempt));
    this.#timer.unref?.();
  }

  async #drain(): Promise<void> {
    const { write, onWritten, logger, what } = this.#options;
    this.#draining = true;
    let written = 0;
    try {
      while (!this.#stopped && this.#held.length > 0) {
        const next = this.#held[0]!;
        try {
          // Not inside `onWritten?.(...)`: an absent callback would skip evaluating the write.
          const result = await write(next);
          onWritten?.(next, result);
        } catch (error) {
          if (isStorageOutage(error)) return this.#schedule();
          logger.error({ err: error }, `could not write one of the ${what} held during a store outage`);
        }
        this.#held.shift();
        written++;
      }
      this.#attempt = 0;
      if (this.#dropped > 0) logger.error({ dropped: this.#dropped }, `${what} dropped during the store outage`);
      this.#dropped = 0;
    } finally {
      this.#draining = false;
      if (written > 0) {
        logger.info({ written }, `wrote the ${what} held during a store outage`);
        this.#options.onDrained?.();
      }
    }
  }
}
