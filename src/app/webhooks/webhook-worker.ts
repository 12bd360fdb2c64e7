import type { Clock } from "../../domain/ports/clock.port.ts";
import type { DomainEvents, PublicDomainEvent } from "../../domain/ports/domain-events.port.ts";
import type { WebhookOutbox } from "../../domain/ports/webhook-outbox.port.ts";
import type { WebhookSender } from "../../domain/ports/webhook-sender.port.ts";
import type { NewWebhookDelivery, WebhookDelivery } from "../../domain/webhook-delivery.ts";
import { backoffDelayMs } from "../dispatcher/backoff.ts";
import type { Logger } from "../../domain/ports/logger.port.ts";
import { isStorageOutage } from "../store-outage.ts";
import { HeldWrites } from "../held-writes.ts";
import { isWebhookEvent, newDelivery } from "./webhook-event.ts";

export interface WebhookWorkerOptions {
  /** Most deliveries attempted at once. */
  readonly concurrency: number;
  /** Attempts before a delivery is parked (`failed`). */
  readonly maxAttempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
  /** How long a claimed delivery stays ours; longer than one attempt can take. */
  readonly leaseMs: number;
  /** Longest sleep between looks at the outbox, whatever it says is due (default 5 s). */
  readonly sweepIntervalMs?: number;
  /** Delivered deliveries are deleted after this long (default 7 days). */
  readonly retentionMs?: number;
}

const DAY_MS = 86_400_000;
const PURGE_EVERY_MS = 3_600_000;
const PURGE_BATCH = 1_000;

/**
 * Turns domain events into webhook deliveries and delivers them.
 *
 * Every event is committed to the outbox first; delivery only ever reads the
 * outbox, so what was enqueued survives a crash or a restart. Deliveries are
 * attempted with bounded concurrency, retried with exponential backoff and
 * full jitter after a failure, non-2xx answer or timeout, and parked after
 * `maxAttempts`. Memory is bounded: the only state is a set of at most
 * `concurrency` attempts, a counter of enqueues awaiting their commit, one
 * timer and two flags, plus the events a store outage holds back (bounded,
 * see {@link HeldWrites}); wake-ups coalesce rather than queue.
 */
export class WebhookWorker {
  readonly #inFlight = new Set<Promise<void>>();
  readonly #options: Required<WebhookWorkerOptions>;
  #running = false;
  #stopped = false;
  #pumping = false;
  #again = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pendingEnqueues = 0;
  #enqueuesDone: (() => void) | undefined;
  #lastPurge = 0;
  readonly #held: HeldWrites<NewWebhookDelivery, WebhookDelivery>;

  constructor(
    private readonly outbox: WebhookOutbox,
    private readonly sender: WebhookSender,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: WebhookWorkerOptions,
  ) {
    this.#options = {
      sweepIntervalMs: 5_000,
      retentionMs: 7 * DAY_MS,
      ...options,
      concurrency: Math.max(1, Math.floor(options.concurrency)),
    };
    this.#held = new HeldWrites({
      write: (delivery) => this.outbox.enqueue(delivery),
      onDrained: () => this.wake(),
      what: "webhook events",
      logger,
    });
  }

  /** Enqueues every public event published from now on (internal ones are not webhooks); returns the unsubscribe. */
  attach(events: DomainEvents): () => void {
    return events.subscribe((event) => {
      if (isWebhookEvent(event)) this.#enqueue(event);
    });
  }

  /** Releases leases left by the last process, then delivers what is due. */
  async start(): Promise<void> {
    await this.outbox.requeueInFlight(this.clock.now());
    this.#running = true;
    this.wake();
  }

  /** Looks at the outbox now (a delivery was enqueued or replayed, or a slot freed). */
  wake(): void {
    if (!this.#running) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    void this.#pump();
  }

  /**
   * Stops claiming, waits (at most `timeoutMs`) for enqueues to commit and
   * attempts in flight to finish. An attempt still running then keeps its
   * lease and is delivered again after the next start (at least once).
   */
  async stop(timeoutMs: number): Promise<void> {
    this.#running = false;
    this.#stopped = true;
    clearTimeout(this.#timer);
    const held = this.#held.stop();
    if (held > 0)
      this.logger.warn({ events: held }, "webhooks: stopped with events a store outage kept out of the outbox");
    const enqueues =
      this.#pendingEnqueues === 0 ? Promise.resolve() : new Promise<void>((r) => (this.#enqueuesDone = r));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    const outcome = await Promise.race([Promise.all([enqueues, Promise.allSettled([...this.#inFlight])]), deadline]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.logger.warn(
        { inFlight: this.#inFlight.size, enqueues: this.#pendingEnqueues },
        "webhooks: stopped before every attempt finished",
      );
    }
  }

  #enqueue(event: PublicDomainEvent): void {
    const delivery = newDelivery(event, this.clock.now());
    // Behind the ones an outage holds, so a message's events keep their order.
    if (this.#held.size > 0) return this.#held.hold(delivery);
    this.#pendingEnqueues++;
    this.outbox
      .enqueue(delivery)
      .then(
        () => this.wake(),
        (error: unknown) => {
          if (isStorageOutage(error) && !this.#stopped) {
            if (this.#held.size === 0)
              this.logger.warn({ err: error }, "webhooks: the outbox cannot write; holding events until it can");
            return this.#held.hold(delivery);
          }
          this.logger.error(
            { err: error, eventId: delivery.eventId, type: delivery.type },
            "webhooks: could not queue an event",
          );
        },
      )
      .finally(() => {
        if (--this.#pendingEnqueues === 0) this.#enqueuesDone?.();
      });
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      for (;;) {
        this.#again = false;
        await this.#claimAndDeliver();
        if (this.#again) continue;
        await this.#scheduleNext();
        if (!this.#again) break;
      }
    } catch (error) {
      this.logger.error({ err: error }, "webhooks: reading the outbox failed; trying again later");
      this.#sleep(this.#options.sweepIntervalMs);
    } finally {
      this.#pumping = false;
    }
  }

  async #claimAndDeliver(): Promise<void> {
    const { concurrency, leaseMs } = this.#options;
    while (this.#running && this.#inFlight.size < concurrency) {
      const batch = await this.outbox.claimDue(concurrency - this.#inFlight.size, leaseMs, this.clock.now());
      if (batch.length === 0) return;
      for (const delivery of batch) {
        const attempt = this.#attempt(delivery).finally(() => {
          this.#inFlight.delete(attempt);
          // A slot is free, and the next event of this delivery's message may now go.
          this.wake();
        });
        this.#inFlight.add(attempt);
      }
    }
  }

  async #scheduleNext(): Promise<void> {
    if (!this.#running) return;
    const now = this.clock.now().getTime();
    if (now - this.#lastPurge >= PURGE_EVERY_MS) {
      this.#lastPurge = now;
      const purged = await this.outbox.purgeDelivered(new Date(now - this.#options.retentionMs), PURGE_BATCH);
      if (purged > 0) this.logger.debug({ purged }, "webhooks: purged old delivered deliveries");
    }
    // A full house is woken by the next attempt that ends; no timer needed.
    if (this.#inFlight.size >= this.#options.concurrency) return;
    const due = await this.outbox.nextDueAt();
    const wait = due === undefined ? this.#options.sweepIntervalMs : due.getTime() - this.clock.now().getTime();
    this.#sleep(Math.min(Math.max(wait, 0), this.#options.sweepIntervalMs));
  }

  #sleep(ms: number): void {
    clearTimeout(this.#timer);
    if (!this.#running) return;
    this.#timer = setTimeout(() => this.wake(), ms);
    this.#timer.unref?.();
  }

  async #attempt(delivery: WebhookDelivery): Promise<void> {
    const log = { deliveryId: delivery.id, eventId: delivery.eventId, type: delivery.type };
    try {
      const result = await this.sender.send({ eventId: delivery.eventId, body: delivery.body, at: this.clock.now() });
      const now = this.clock.now();
      const attempts = delivery.attempts + 1;
      if (result.ok) {
        await this.outbox.recordSuccess(delivery.id, now);
        this.logger.debug({ ...log, attempts, status: result.status }, "webhooks: delivered");
        return;
      }
      if (attempts >= this.#options.maxAttempts) {
        await this.outbox.recordFailure(delivery.id, { kind: "park", error: result.error }, now);
        this.logger.warn({ ...log, attempts, error: result.error }, "webhooks: delivery parked after its last attempt");
        return;
      }
      const delay = backoffDelayMs(attempts, { baseMs: this.#options.baseMs, maxMs: this.#options.maxMs });
      const nextAttemptAt = new Date(now.getTime() + delay);
      await this.outbox.recordFailure(delivery.id, { kind: "retry", error: result.error, nextAttemptAt }, now);
      this.logger.info(
        { ...log, attempts, error: result.error, retryInMs: delay },
        "webhooks: attempt failed; will retry",
      );
    } catch (error) {
      // The lease runs out and the delivery is attempted again: at least once.
      const level = this.#stopped ? "warn" : "error";
      this.logger[level]({ ...log, err: error }, "webhooks: could not record an attempt; it will be retried");
    }
  }
}
