import type { MessageError } from "../../../domain/errors.ts";
import type { NewInboundMessage, NewOutboundMessage } from "../../../domain/message.ts";
import { statusesPassed, type MessageStatus } from "../../../domain/message-status.ts";
import { parseHistory, type MessageRow } from "./row-mapping.ts";

/** Statuses of a message still in the dispatcher's hands: the queue proper. */
export const UNFINISHED: readonly MessageStatus[] = ["queued", "sending"];
const GOT_THROUGH: readonly MessageStatus[] = ["sent", "delivered", "read"];

/** What one write changes on a row; an absent field keeps its value. Times are epoch ms. */
export interface RowChange {
  readonly status?: MessageStatus;
  readonly attempts?: number;
  /** `undefined` keeps the current error, except that a message that got through drops it. */
  readonly error?: MessageError | null;
  readonly providerMessageId?: string | null;
  readonly nextAttemptAt?: number | null;
  readonly leaseUntil?: number | null;
}

/** A fresh queued row, due at once; `head` when no earlier message to the recipient is unfinished. */
export function newOutboundRow(message: NewOutboundMessage, head: boolean): MessageRow {
  const at = message.at.getTime();
  return {
    seq: 0,
    id: message.id,
    direction: "outbound",
    status: "queued",
    channel: message.channel,
    provider: message.provider,
    session: message.session,
    to_address: message.to,
    from_address: message.from,
    body: message.text,
    media_urls: JSON.stringify(message.mediaUrls),
    metadata: message.metadata === null ? null : JSON.stringify(message.metadata),
    provider_message_id: null,
    attempts: 0,
    error: null,
    idempotency_key: message.idempotency?.key ?? null,
    idempotency_fingerprint: message.idempotency?.fingerprint ?? null,
    next_attempt_at: at,
    lease_until: null,
    head: head ? 1 : 0,
    created_at: at,
    updated_at: at,
    history: JSON.stringify([{ status: "queued", at }]),
  };
}

export function newInboundRow(message: NewInboundMessage): MessageRow {
  const at = message.at.getTime();
  return {
    seq: 0,
    id: message.id,
    direction: "inbound",
    status: "received",
    channel: message.channel,
    provider: message.provider,
    session: message.session,
    to_address: message.to,
    from_address: message.from,
    body: message.text,
    media_urls: JSON.stringify(message.mediaUrls),
    metadata: null,
    provider_message_id: message.providerMessageId,
    attempts: 0,
    error: null,
    idempotency_key: null,
    idempotency_fingerprint: null,
    next_attempt_at: null,
    lease_until: null,
    head: 0,
    created_at: at,
    updated_at: at,
    history: JSON.stringify([{ status: "received", at }]),
  };
}

/**
 * The row after `change`: history extended when the status moves (with the
 * statuses the move implies, see `statusesPassed`), and the
 * head-of-line flag dropped once the message is no longer unfinished (the
 * caller then hands it to the recipient's next message).
 */
export function applyChange(row: MessageRow, change: RowChange, now: number): MessageRow {
  const status = change.status ?? row.status;
  const history =
    status === row.status
      ? row.history
      : JSON.stringify([
          ...parseHistory(row.history),
          ...statusesPassed(row.status, status).map((passed) => ({ status: passed, at: now })),
        ]);
  let error = row.error;
  if (change.error !== undefined) error = change.error === null ? null : JSON.stringify(change.error);
  else if (GOT_THROUGH.includes(status)) error = null;
  return {
    ...row,
    status,
    history,
    error,
    attempts: change.attempts ?? row.attempts,
    provider_message_id: change.providerMessageId !== undefined ? change.providerMessageId : row.provider_message_id,
    next_attempt_at: change.nextAttemptAt !== undefined ? change.nextAttemptAt : row.next_attempt_at,
    lease_until: change.leaseUntil !== undefined ? change.leaseUntil : row.lease_until,
    head: UNFINISHED.includes(status) ? row.head : 0,
    updated_at: now,
  };
}
