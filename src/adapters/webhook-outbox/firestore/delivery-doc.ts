import type { WebhookDelivery, WebhookDeliveryStatus, WebhookEventType } from "../../../domain/webhook-delivery.ts";

/**
 * One document of `deliveries`, named by the delivery id. Times are epoch
 * milliseconds; `seq` is the enqueue order (SequenceClock, strict per
 * ordering key). `head` is set on the oldest pending delivery of its
 * ordering key, the only one claimDue may hand out; `dueAt` is when that
 * could be (its next attempt, or its lease's end if later).
 */
export interface DeliveryDoc {
  readonly id: string;
  readonly eventId: string;
  readonly type: WebhookEventType;
  readonly orderingKey: string;
  /** The ordering key's document id (a hash of the key). */
  readonly key: string;
  readonly status: WebhookDeliveryStatus;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly nextAttemptAt: number | null;
  readonly leaseUntil: number | null;
  /** A lease was given and not yet released (requeueInFlight's query). */
  readonly leased: boolean;
  readonly dueAt: number | null;
  readonly head: boolean;
  readonly seq: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly body: string;
}

/** A change to a delivery; the derived fields (`leased`, `dueAt`, `head` off once not pending) follow from it. */
export function changed(doc: DeliveryDoc, change: Partial<DeliveryDoc>): DeliveryDoc {
  const next = { ...doc, ...change };
  const pending = next.status === "pending";
  return {
    ...next,
    leased: pending && next.leaseUntil !== null,
    dueAt: pending ? Math.max(next.nextAttemptAt ?? 0, next.leaseUntil ?? 0) : null,
    head: pending && next.head,
  };
}

export function docToDelivery(doc: DeliveryDoc): WebhookDelivery {
  return {
    id: doc.id,
    eventId: doc.eventId,
    type: doc.type,
    status: doc.status,
    attempts: doc.attempts,
    lastError: doc.lastError,
    nextAttemptAt:
      doc.status === "pending" && doc.nextAttemptAt !== null ? new Date(doc.nextAttemptAt).toISOString() : null,
    createdAt: new Date(doc.createdAt).toISOString(),
    updatedAt: new Date(doc.updatedAt).toISOString(),
    body: doc.body,
  };
}
