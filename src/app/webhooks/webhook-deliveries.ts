import { DomainError } from "../../domain/errors.ts";
import type { Clock } from "../../domain/ports/clock.port.ts";
import type { Page } from "../../domain/ports/message-store.port.ts";
import type { WebhookDeliveryFilter, WebhookOutbox } from "../../domain/ports/webhook-outbox.port.ts";
import type { WebhookDelivery } from "../../domain/webhook-delivery.ts";

/** A delivery as the API lists it: its state, not its body. */
export type WebhookDeliveryView = Omit<WebhookDelivery, "body">;

/** A single delivery also shows the payload it sends. */
export type WebhookDeliveryDetail = WebhookDeliveryView & { readonly payload: unknown };

/** What the operator can see and do about outbound webhooks: list, inspect, replay a parked one. */
export class WebhookDeliveries {
  constructor(
    private readonly outbox: WebhookOutbox,
    private readonly clock: Clock,
    /** Tells the worker a delivery became due (a replay). */
    private readonly wake: () => void,
  ) {}

  async list(filter: WebhookDeliveryFilter): Promise<Page<WebhookDeliveryView>> {
    const page = await this.outbox.list(filter);
    return { items: page.items.map(view), nextCursor: page.nextCursor };
  }

  async get(id: string): Promise<WebhookDeliveryDetail> {
    const delivery = await this.outbox.get(id);
    if (!delivery) throw notFound(id);
    return { ...view(delivery), payload: JSON.parse(delivery.body) as unknown };
  }

  /** Re-queues a parked delivery (same event id and body) and wakes the worker. */
  async retry(id: string): Promise<WebhookDeliveryView> {
    const result = await this.outbox.retry(id, this.clock.now());
    switch (result.kind) {
      case "not_found":
        throw notFound(id);
      case "not_parked":
        throw new DomainError(
          "WEBHOOK.NOT_PARKED",
          `webhook delivery ${id} is ${result.delivery.status}; only a parked (failed) delivery can be replayed`,
        );
      case "requeued":
        this.wake();
        return view(result.delivery);
    }
  }
}

function view(delivery: WebhookDelivery): WebhookDeliveryView {
  const { body: _body, ...rest } = delivery;
  return rest;
}

function notFound(id: string): DomainError {
  return new DomainError("WEBHOOK.DELIVERY_NOT_FOUND", `webhook delivery ${id} not found`);
}
