import type { Logger } from "../../domain/ports/logger.port.ts";
import type { NewWebhookDelivery } from "../../domain/webhook-delivery.ts";
import { isStorageOutage, outageRetryDelayMs } from "../store-outage.ts";

/** Most deliveries held in memory during an outage; past it the oldest go (the next start's catch-up re-announces message events). */
const MAX_HELD = 10_000;

/**
 * Webhook events the outbox refused because its storage failed (disk full),
 * kept in memory in the order they happened and queued again, oldest first,
 * once the outbox can write: an outage delays them, it does not drop them.
 * While any is held, later events wait behind them, so a message's events
 * keep their order. Memory is bounded by `max`.
 */
export class HeldDeliveries {
  readonly #held: NewWebhookDelivery[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #draining = false;
  #attempt = 0;
  #dropped = 0;
  #stopped = false;

  constructor(
    private readonly enqueue: (delivery: NewWebhookDelivery) => Promise<unknown>,
    /** Called after held deliveries were queued (the worker looks at the outbox). */
    private readonly onQueued: () => void,
    private readonly logger: Logger,
    private readonly max = MAX_HELD,
  ) {}

  /** How many wait. */
  get size(): number {
    return this.#held.length;
  }

  /** Keeps a delivery to queue later. */
  hold(delivery: NewWebhookDelivery): void {
    if (this.#stopped) return;
    if (this.#held.length >= this.max) {
      this.#held.shift();
      if (this.#dropped++ === 0)
        this.logger.error(
          { max: this.max },
          "webhooks: too many events held during a store outage; dropping the oldest",
        );
    }
    this.#held.push(delivery);
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
    this.#draining = true;
    let queued = 0;
    try {
      while (!this.#stopped && this.#held.length > 0) {
        const next = this.#held[0]!;
        try {
          await this.enqueue(next);
        } catch (error) {
          if (isStorageOutage(error)) return this.#schedule();
          this.logger.error(
            { err: error, eventId: next.eventId, type: next.type },
            "webhooks: could not queue an event",
          );
        }
        this.#held.shift();
        queued++;
      }
      this.#attempt = 0;
      if (this.#dropped > 0)
        this.logger.error({ dropped: this.#dropped }, "webhooks: events dropped during the outage");
      this.#dropped = 0;
    } finally {
      this.#draining = false;
      if (queued > 0) {
        this.logger.info({ queued }, "webhooks: queued the events held during a store outage");
        this.onQueued();
      }
    }
  }
}
