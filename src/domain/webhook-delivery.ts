/** The events a webhook receiver gets, named as in the payload's `type`. */
export const WebhookEventTypes = [
  "message.inbound",
  "message.status",
  "session.state",
  "message.reaction",
  "message.edited",
  "message.deleted",
  "group.updated",
] as const;
export type WebhookEventType = (typeof WebhookEventTypes)[number];

/**
 * `pending`: waiting for its first or next attempt (or being attempted now);
 * `delivered`: the receiver answered 2xx; `failed`: parked after the last
 * allowed attempt, until an operator replays it.
 */
export const WebhookDeliveryStatuses = ["pending", "delivered", "failed"] as const;
export type WebhookDeliveryStatus = (typeof WebhookDeliveryStatuses)[number];

/** One event on its way to the webhook receiver. Times are ISO-8601 strings. */
export interface WebhookDelivery {
  readonly id: string;
  /** Sent as `webhook-id`: the same on every attempt and replay, so a receiver can drop duplicates. */
  readonly eventId: string;
  readonly type: WebhookEventType;
  readonly status: WebhookDeliveryStatus;
  readonly attempts: number;
  readonly lastError: string | null;
  /** When the next attempt is due; null once delivered or parked. */
  readonly nextAttemptAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The exact JSON body sent on every attempt (`{type, timestamp, data}`), as signed. */
  readonly body: string;
}

/** What the worker asks the outbox to keep. */
export interface NewWebhookDelivery {
  readonly id: string;
  readonly eventId: string;
  readonly type: WebhookEventType;
  /**
   * Deliveries with the same key go out one at a time, in enqueue order (all
   * events of one message, or of one session); different keys go out in parallel.
   */
  readonly orderingKey: string;
  readonly body: string;
  readonly at: Date;
}
