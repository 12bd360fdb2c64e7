export const MessageStatuses = ["queued", "sending", "sent", "delivered", "read", "failed", "received"] as const;
export type MessageStatus = (typeof MessageStatuses)[number];

/** Statuses a provider reports after a send; they only ever move forward. */
export type ProviderStatus = "sent" | "delivered" | "read" | "failed";

// queued <-> sending is the dispatcher's own lease cycle (an attempt that can be
// retried goes back to queued). From `sent` on, a status only moves forward, so
// a late or reordered receipt can never undo a newer one. `received` is the
// only status of an inbound message.
const allowed: Readonly<Record<MessageStatus, readonly MessageStatus[]>> = {
  queued: ["sending", "failed"],
  sending: ["queued", "sent", "delivered", "read", "failed"],
  sent: ["delivered", "read", "failed"],
  delivered: ["read"],
  read: [],
  failed: [],
  received: [],
};

/** How far a sent message got, in order: each implies the ones before it. */
const PROGRESS: readonly MessageStatus[] = ["sent", "delivered", "read"];

/**
 * The statuses a move from `from` to `to` passes, `to` last, for the
 * history: a read message was delivered, and a delivered or read one was
 * sent, even when the provider's report of that step never came (a read
 * receipt that overtook the delivery one, a receipt before the send was
 * recorded). Any other move passes only `to`.
 */
export function statusesPassed(from: MessageStatus, to: MessageStatus): MessageStatus[] {
  const target = PROGRESS.indexOf(to);
  if (target === -1) return [to];
  return PROGRESS.slice(PROGRESS.indexOf(from) + 1, target + 1);
}

export function canTransition(from: MessageStatus, to: MessageStatus): boolean {
  return allowed[from].includes(to);
}
