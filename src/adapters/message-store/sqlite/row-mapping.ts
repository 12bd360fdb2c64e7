import type { Channel } from "../../../domain/address.ts";
import type { MessageError } from "../../../domain/errors.ts";
import type { Direction, Message, NewOutboundMessage, StatusChange } from "../../../domain/message.ts";
import { plainConversation, type Conversation } from "../../../domain/conversation.ts";
import type { MessageMedia } from "../../../domain/media.ts";
import type { MessageStatus } from "../../../domain/message-status.ts";
import type { StoredMessage } from "../../../domain/message-lifecycle.ts";

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
  /** Unused since v4 (always `[]`): `media` holds the attachments. */
  media_urls: string;
  media: string;
  conversation: string;
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
interface StoredStatusChange {
  readonly status: MessageStatus;
  readonly at: number;
}

function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

function parseHistory(json: string): StoredStatusChange[] {
  return JSON.parse(json) as StoredStatusChange[];
}

export function rowToMessage(row: MessageRow): Message {
  const media = JSON.parse(row.media) as MessageMedia[];
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
    media,
    ...plainConversation(media.length > 0 ? "media" : "text"),
    ...(JSON.parse(row.conversation) as Partial<Conversation>),
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
    providerMessageId: row.provider_message_id,
    attempts: row.attempts,
    error: row.error === null ? null : (JSON.parse(row.error) as MessageError),
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
    history,
  };
}

/** A message and its queue state as read from its row. */
export function rowToStored(row: MessageRow): StoredMessage {
  return { message: rowToMessage(row), nextAttemptAt: row.next_attempt_at, leaseUntil: row.lease_until };
}

/** The columns a change to a message writes, as stored. */
interface ChangedColumns {
  readonly status: MessageStatus;
  readonly history: string;
  readonly error: string | null;
  readonly attempts: number;
  readonly provider_message_id: string | null;
  readonly next_attempt_at: number | null;
  readonly lease_until: number | null;
  readonly updated_at: number;
}

export function changedColumns(stored: StoredMessage): ChangedColumns {
  const m = stored.message;
  const history: StoredStatusChange[] = m.history.map((change) => ({
    status: change.status,
    at: Date.parse(change.at),
  }));
  return {
    status: m.status,
    history: JSON.stringify(history),
    error: m.error === null ? null : JSON.stringify(m.error),
    attempts: m.attempts,
    provider_message_id: m.providerMessageId,
    next_attempt_at: stored.nextAttemptAt,
    lease_until: stored.leaseUntil,
    updated_at: Date.parse(m.updatedAt),
  };
}

/**
 * The row that stores a new message; `seq` is SQLite's to assign. An inbound
 * message without our number (`to` "") is stored with a NULL `to_address`.
 */
export function newRow(
  stored: StoredMessage,
  idempotency: NewOutboundMessage["idempotency"],
  head: boolean,
): Omit<MessageRow, "seq"> {
  const m = stored.message;
  return {
    id: m.id,
    direction: m.direction,
    channel: m.channel,
    provider: m.provider,
    session: m.session,
    to_address: m.direction === "inbound" && m.to === "" ? null : m.to,
    from_address: m.from,
    body: m.text,
    media_urls: "[]",
    media: JSON.stringify(m.media),
    conversation: conversationJson(m),
    metadata: m.metadata === null ? null : JSON.stringify(m.metadata),
    idempotency_key: idempotency?.key ?? null,
    idempotency_fingerprint: idempotency?.fingerprint ?? null,
    head: head ? 1 : 0,
    created_at: Date.parse(m.createdAt),
    ...changedColumns(stored),
  };
}

/** The conversation facts of a message, as stored in its `conversation` column. */
export function conversationJson(m: Conversation): string {
  const conversation: Conversation = {
    kind: m.kind,
    replyTo: m.replyTo,
    location: m.location,
    contacts: m.contacts,
    reaction: m.reaction,
    edit: m.edit,
    revoke: m.revoke,
    target: m.target,
    editedAt: m.editedAt,
    deletedAt: m.deletedAt,
    edits: m.edits,
    lid: m.lid,
    group: m.group,
    participant: m.participant,
  };
  return JSON.stringify(conversation);
}
