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

export function canTransition(from: MessageStatus, to: MessageStatus): boolean {
  return allowed[from].includes(to);
}

export function isTerminal(status: MessageStatus): boolean {
  return allowed[status].length === 0;
}

export function isMessageStatus(value: string): value is MessageStatus {
  return (MessageStatuses as readonly string[]).includes(value);
}
