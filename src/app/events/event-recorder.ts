import type { Clock } from "../../domain/ports/clock.port.ts";
import type { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import type { EventLog, LoggedEvent, NewLoggedEvent } from "../../domain/ports/event-log.port.ts";
import type { Logger } from "../../domain/ports/logger.port.ts";
import { HeldWrites } from "../held-writes.ts";
import { isStorageOutage } from "../store-outage.ts";
import { isWebhookEvent, newDelivery } from "../webhooks/webhook-event.ts";

const HOUR_MS = 3_600_000;

export interface EventRecorderOptions {
  /** EVENTS_RETENTION_HOURS: events older than this are pruned. */
  readonly retentionHours: number;
  /** How often the prune runs (hourly in the gateway). */
  readonly pruneIntervalMs: number;
}

/**
 * Records every public domain event in the {@link EventLog} (its body is
 * exactly the webhook payload), then hands it, with its id, to the live
 * event streams. Streams get events in id order, and only once they are
 * durable, so a client resuming from an id it saw never misses one. Events
 * the log refused because its storage failed (disk full) are held in order
 * (bounded) and recorded, then handed out, once it writes again.
 */
export class EventRecorder {
  readonly #listeners = new Map<(event: LoggedEvent) => void, () => void>();
  // Appends are issued in publish order (ids follow it); handing them out
  // through one chain keeps that order even if commits resolve out of it.
  #tail: Promise<void> = Promise.resolve();
  #detach: (() => void) | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #held: HeldWrites<NewLoggedEvent, LoggedEvent>;

  constructor(
    readonly log: EventLog,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: EventRecorderOptions,
  ) {
    this.#held = new HeldWrites({
      write: (event) => log.append(event),
      onWritten: (_, logged) => this.#handOut(logged),
      what: "stream events",
      logger,
    });
  }

  /** Starts recording what `events` publishes from now on. */
  attach(events: DomainEvents): void {
    this.#detach ??= events.subscribe((event) => {
      if (!isWebhookEvent(event)) return;
      const at = this.clock.now();
      const { type, body } = newDelivery(event, at);
      const entry = { type, body, at };
      // Behind the ones an outage holds, so ids keep the order of events.
      if (this.#held.size > 0) return this.#held.hold(entry);
      const appended = this.log.append(entry);
      // Handled in turn by the chain below; marked handled now, since a long chain may reach it after it failed.
      appended.catch(() => undefined);
      this.#tail = this.#tail.then(async () => {
        try {
          this.#handOut(await appended);
        } catch (error) {
          if (isStorageOutage(error) && this.#detach !== undefined) {
            if (this.#held.size === 0)
              this.logger.warn({ err: error }, "events: the event log cannot write; holding events until it can");
            return this.#held.hold(entry);
          }
          this.logger.error({ err: error, type }, "events: could not record an event for the event stream");
        }
      });
    });
  }

  /** Listens to every event recorded from now on, in id order; returns the unsubscribe. */
  subscribe(listener: (event: LoggedEvent) => void, onEnd: () => void = () => undefined): () => void {
    // A fresh function per subscription, so one stream unsubscribing never removes another.
    const own = (event: LoggedEvent) => listener(event);
    this.#listeners.set(own, onEnd);
    return () => this.#listeners.delete(own);
  }

  /** How many live streams listen (for tests and metrics). */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Prunes now, then every interval. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.pruneOnce().catch(this.#pruneFailed), this.options.pruneIntervalMs);
    this.#timer.unref?.();
    void this.pruneOnce().catch(this.#pruneFailed);
  }

  /**
   * Stops recording and pruning, waits for the events in flight to be
   * handed out, then ends every live stream (so the HTTP server can close);
   * the log stays open for the caller to close.
   */
  async stop(): Promise<void> {
    this.#detach?.();
    this.#detach = undefined;
    const held = this.#held.stop();
    if (held > 0) this.logger.warn({ events: held }, "events: stopped with events the event log could not record");
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#tail;
    const ends = [...this.#listeners.values()];
    this.#listeners.clear();
    for (const end of ends) end();
  }

  /** Removes the events past the retention; resolves with how many went. */
  async pruneOnce(): Promise<number> {
    const olderThan = new Date(this.clock.now().getTime() - this.options.retentionHours * HOUR_MS);
    const removed = await this.log.prune(olderThan);
    if (removed > 0) this.logger.info({ removed, olderThan: olderThan.toISOString() }, "events: retention prune");
    return removed;
  }

  #handOut(event: LoggedEvent): void {
    for (const listener of [...this.#listeners.keys()]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error }, "events: a stream listener threw");
      }
    }
  }

  readonly #pruneFailed = (error: unknown): void => {
    this.logger.error({ err: error }, "events: retention prune failed; the next one retries");
  };
}
