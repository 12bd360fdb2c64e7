import { toMessageView } from "../message-view.ts";
import { randomUUID } from "node:crypto";
import type { DomainEvent, PublicDomainEvent } from "../../domain/ports/domain-events.port.ts";
import { WebhookEventTypes, type NewWebhookDelivery, type WebhookEventType } from "../../domain/webhook-delivery.ts";

/** A domain event as the receiver gets it: the body to sign and the key that orders it. */
interface WebhookEvent {
  readonly type: WebhookEventType;
  /** `{type, timestamp, data}`: data is the message or session exactly as the API shows it. */
  readonly body: string;
  /** All events of one message (or of one session) are delivered one at a time, in order. */
  readonly orderingKey: string;
}

/** The ordering key of a message's events. */
export function messageOrderingKey(messageId: string): string {
  return `message:${messageId}`;
}

/** Whether a webhook announces this event: internal ones (`message.accepted`, `session.ready`) stay in the process. */
export function isWebhookEvent(event: DomainEvent): event is PublicDomainEvent {
  return (WebhookEventTypes as readonly string[]).includes(event.type);
}

/** Builds the payload of a domain event; `at` is when it happened (the payload's `timestamp`). */
function toWebhookEvent(event: PublicDomainEvent, at: Date): WebhookEvent {
  const timestamp = at.toISOString();
  switch (event.type) {
    case "message.inbound":
    case "message.status":
    case "message.reaction":
    case "message.edited":
    case "message.deleted":
      return {
        type: event.type,
        body: JSON.stringify({ type: event.type, timestamp, data: toMessageView(event.message) }),
        orderingKey: messageOrderingKey(event.message.id),
      };
    case "group.updated":
      return {
        type: event.type,
        body: JSON.stringify({ type: event.type, timestamp, data: { session: event.session, ...event.update } }),
        orderingKey: `group:${event.session}:${event.update.group}`,
      };
    case "session.state":
      return {
        type: event.type,
        body: JSON.stringify({ type: event.type, timestamp, data: event.session }),
        orderingKey: `session:${event.session.provider}:${event.session.id}`,
      };
  }
}

/** A new delivery of a domain event that happened at `at`, with fresh delivery and event ids. */
export function newDelivery(event: PublicDomainEvent, at: Date): NewWebhookDelivery {
  const webhook = toWebhookEvent(event, at);
  return {
    id: `whd_${randomUUID()}`,
    eventId: `evt_${randomUUID()}`,
    type: webhook.type,
    orderingKey: webhook.orderingKey,
    body: webhook.body,
    at,
  };
}
