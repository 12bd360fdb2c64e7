import type { Channel } from "../../../domain/address.ts";
import type { MessageError } from "../../../domain/errors.ts";
import type { Direction, Message, NewOutboundMessage, StatusChange } from "../../../domain/message.ts";
import type { MessageStatus } from "../../../domain/message-status.ts";

/** One row of `messages` as SQLite returns it. Times are epoch milliseconds. */
export interface MessageRow {
  seq: number;
  id: string;
  direction: Direction;
  status: MessageStatus;
  channel: Channel;
  provider: string;
  session: string;
  to_address: string | null;
  from_address: string | null;
  body: string;
  media_urls: string;
  metadata: string | null;
  provider_message_id: string | null;
  attempts: number;
  error: string | null;
  idempotency_key: string | null;
  idempotency_fingerprint: string | null;
  next_attempt_at: number | null;
  lease_until: number | null;
  head: number;
  created_at: number;
  updated_at: number;
  history: string;
}

/** History as stored: compact epoch milliseconds, turned into ISO strings on the way out. */
export interface StoredStatusChange {
  readonly status: MessageStatus;
  readonly at: number;
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

export function parseHistory(json: string): StoredStatusChange[] {
  return JSON.parse(json) as StoredStatusChange[];
}

export function rowToMessage(row: MessageRow): Message {
  const history: StatusChange[] = parseHistory(row.history).map((change) => ({
    status: change.status,
    at: toIso(change.at),
  }));
  return {
    id: row.id,
    direction: row.direction,
    status: row.status,
    channel: row.channel,
    provider: row.provider,
    session: row.session,
    // The domain's Message.to is a string; an inbound message whose provider
    // did not say which of our numbers it reached is stored as NULL.
    to: row.to_address ?? "",
    from: row.from_address,
    text: row.body,
    mediaUrls: JSON.parse(row.media_urls) as string[],
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
    providerMessageId: row.provider_message_id,
    attempts: row.attempts,
    error: row.error === null ? null : (JSON.parse(row.error) as MessageError),
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
    history,
  };
}

/** The message a fresh outbound row stands for, built from what was inserted (what `rowToMessage` would read back). */
export function queuedMessage(message: NewOutboundMessage): Message {
  const at = toIso(message.at.getTime());
  return {
    id: message.id,
    direction: "outbound",
    status: "queued",
    channel: message.channel,
    provider: message.provider,
    session: message.session,
    to: message.to,
    from: message.from,
    text: message.text,
    mediaUrls: [...message.mediaUrls],
    metadata: message.metadata,
    providerMessageId: null,
    attempts: 0,
    error: null,
    createdAt: at,
    updatedAt: at,
    history: [{ status: "queued", at }],
  };
}
