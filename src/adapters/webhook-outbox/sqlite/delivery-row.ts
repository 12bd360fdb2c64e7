import type { WebhookDelivery, WebhookDeliveryStatus, WebhookEventType } from "../../../domain/webhook-delivery.ts";

/** One row of `deliveries` as SQLite returns it. Times are epoch milliseconds. */
export interface DeliveryRow {
  seq: number;
  id: string;
  event_id: string;
  type: WebhookEventType;
  ordering_key: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
  body: string;
}

export function rowToDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    eventId: row.event_id,
    type: row.type,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt:
      row.status === "pending" && row.next_attempt_at !== null ? new Date(row.next_attempt_at).toISOString() : null,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    body: row.body,
  };
}
