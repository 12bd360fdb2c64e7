import type { Message, Route } from "../../../domain/message.ts";
import { heldMediaIds, isUnfinished, type StoredMessage } from "../../../domain/message-lifecycle.ts";
import type { MessageStatus } from "../../../domain/message-status.ts";
import { dueAt } from "../../../domain/recipient-runs.ts";
import { hashedId } from "../../shared/firestore/firestore-app.ts";

/**
 * One document of `messages`, named by the message id. `m` is the message
 * itself as JSON (the one source of its fields, never indexed); the other
 * fields are what queries filter and sort on, derived from it on every write
 * by {@link messageDoc}. Times are epoch milliseconds; `seq` is the
 * acceptance order (see SequenceClock).
 */
export interface MessageDoc {
  readonly m: string;
  readonly direction: Message["direction"];
  readonly status: MessageStatus;
  readonly provider: string;
  readonly session: string;
  readonly providerMessageId: string | null;
  readonly seq: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly nextAttemptAt: number | null;
  readonly leaseUntil: number | null;
  /** When claim could hand it out (a queued one's next attempt, a sending one's lease expiry); null once finished. */
  readonly dueAt: number | null;
  /** Queued or sending. */
  readonly unfinished: boolean;
  /** The oldest unfinished message of its recipient's line: what claim looks for. */
  readonly head: boolean;
  /** Its recipient's line document (outbound only). */
  readonly line: string | null;
  /** MediaStore ids of the files it holds, for mediaInUse. */
  readonly mediaIds: readonly string[];
}

/** The id of the line document of a recipient of a route: one per (provider, session, to). */
export function lineId(message: Pick<Message, "provider" | "session" | "to">): string {
  return hashedId(message.provider, message.session, message.to);
}

/** The document for a message in the state `stored`, keeping what never changes (`seq`, `line`) and `head` as given. */
export function messageDoc(stored: StoredMessage, seq: number, head: boolean): MessageDoc {
  const m = stored.message;
  const unfinished = isUnfinished(m.status);
  return {
    m: JSON.stringify(m),
    direction: m.direction,
    status: m.status,
    provider: m.provider,
    session: m.session,
    providerMessageId: m.providerMessageId,
    seq,
    createdAt: Date.parse(m.createdAt),
    updatedAt: Date.parse(m.updatedAt),
    nextAttemptAt: stored.nextAttemptAt,
    leaseUntil: stored.leaseUntil,
    dueAt: unfinished
      ? dueAt({ seq, message: m, nextAttemptAt: stored.nextAttemptAt, leaseUntil: stored.leaseUntil })
      : null,
    unfinished,
    head: unfinished && head,
    line: m.direction === "outbound" ? lineId(m) : null,
    mediaIds: heldMediaIds(m),
  };
}

export function docToMessage(doc: MessageDoc): Message {
  return JSON.parse(doc.m) as Message;
}

export function docToStored(doc: MessageDoc): StoredMessage {
  return { message: docToMessage(doc), nextAttemptAt: doc.nextAttemptAt, leaseUntil: doc.leaseUntil };
}

/** A route as one string, for maps and sets. */
export function routeKey(route: Route): string {
  return `${route.provider}\u0000${route.session}`;
}
