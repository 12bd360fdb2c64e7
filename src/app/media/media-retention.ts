import type { Clock } from "../../domain/ports/clock.port.ts";
import type { Logger } from "../../domain/ports/logger.port.ts";
import type { MediaStore } from "../../domain/ports/media-store.port.ts";

const DAY_MS = 86_400_000;

/** The oldest moment a file or a message still counts as recent: `days` before now. */
export function retentionStart(clock: Clock, days: number): Date {
  return new Date(clock.now().getTime() - days * DAY_MS);
}

export interface MediaRetentionOptions {
  /** MEDIA_RETENTION_DAYS: files older than this go, unless still needed. */
  readonly retentionDays: number;
  /** How often the sweep runs (hourly in the gateway). */
  readonly intervalMs: number;
  /**
   * Whether a file past the retention must stay: true while a queued or
   * recent message refers to it (the message store's `mediaInUse`).
   */
  readonly stillNeeded: (id: string) => boolean | Promise<boolean>;
}

/**
 * The background retention of media: a sweep at start, then every
 * interval, one at a time; a failed sweep is logged and the next one tries
 * again. Never keeps the process alive on its own.
 */
export class MediaRetention {
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly store: MediaStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: MediaRetentionOptions,
  ) {}

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.#tick(), this.options.intervalMs);
    this.#timer.unref?.();
    void this.#tick();
  }

  /** Stops the timer and waits for a sweep in progress, so the store can close after. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** One sweep now; resolves with how many files went. */
  async sweepOnce(): Promise<number> {
    const olderThan = retentionStart(this.clock, this.options.retentionDays);
    const removed = await this.store.sweep(olderThan, this.options.stillNeeded);
    if (removed > 0) this.logger.info({ removed, olderThan: olderThan.toISOString() }, "media: retention sweep");
    return removed;
  }

  #tick(): Promise<void> {
    // A sweep slower than the interval is not run twice at once.
    this.#running ??= this.sweepOnce()
      .then(() => undefined)
      .catch((error: unknown) => this.logger.error({ err: error }, "media: retention sweep failed; retried later"))
      .finally(() => (this.#running = undefined));
    return this.#running;
  }
}
