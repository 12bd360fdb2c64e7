import type { Message } from "../../domain/message.ts";
import type { PublicDomainEvent } from "../../domain/ports/domain-events.port.ts";
import type { MessageStore } from "../../domain/ports/message-store.port.ts";
import type { WebhookOutbox } from "../../domain/ports/webhook-outbox.port.ts";
import { messageOrderingKey, newDelivery } from "./webhook-event.ts";

/**
 * How far before the newest queued event the catch-up looks. An event is
 * queued milliseconds after its change commits; the margin covers that gap
 * many times over, and changes whose events are in the outbox cost only a
 * read.
 */
export const CATCH_UP_MARGIN_MS = 60_000;

const PAGE = 500;

type MessageEvent = Extract<PublicDomainEvent, { readonly message: Message }>;

/**
 * Queues the message events a crash lost, before anything else runs.
 *
 * A change commits to messages.db and its event to webhooks.db just after,
 * so a crash between the two loses the event. At start, every message
 * changed since shortly before the newest queued event is compared with the
 * newest event the outbox holds for it: a message that reached a status no
 * event announced (sent, delivered, read, failed; an inbound message that
 * was never announced) gets one event with the message as it is now, stamped
 * with the time of its change. `queued` and `sending` are skipped: the
 * dispatcher moves them on and announces that. Nothing is announced twice:
 * after a clean stop every change has its event. Returns how many it queued.
 */
export async function catchUpWebhooks(
  messages: MessageStore,
  outbox: WebhookOutbox,
  now: Date,
  marginMs = CATCH_UP_MARGIN_MS,
): Promise<number> {
  const { createdAt, lastEnqueuedAt } = await outbox.timeline();
  // Before its creation the outbox announced nothing, and must not start with history.
  const since = new Date(Math.max(createdAt.getTime(), (lastEnqueuedAt?.getTime() ?? 0) - marginMs));
  let queued = 0;
  let cursor: string | undefined;
  do {
    const page = await messages.changedSince(since, PAGE, cursor);
    const latest = await outbox.latestBodies(page.items.map((m) => messageOrderingKey(m.id)));
    const owed = page.items.flatMap((m) => missedEvent(m, latest.get(messageOrderingKey(m.id))) ?? []);
    // One event per message: queued together, they share the outbox's commits.
    // The payload tells when the change happened; the outbox, when it was queued.
    await Promise.all(
      owed.map((event) => outbox.enqueue({ ...newDelivery(event, new Date(event.message.updatedAt)), at: now })),
    );
    queued += owed.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return queued;
}

/** The event a message is owed, given the body of the newest event queued for it, if any. */
export function missedEvent(message: Message, lastBody: string | undefined): MessageEvent | undefined {
  if (message.status === "queued" || message.status === "sending") return undefined;
  if (lastBody !== undefined && announcedStatus(lastBody) === message.status) return undefined;
  if (message.direction === "inbound") return lastBody === undefined ? { type: "message.inbound", message } : undefined;
  return { type: "message.status", message, reached: [message.status] };
}

function announcedStatus(body: string): unknown {
  try {
    return (JSON.parse(body) as { data?: { status?: unknown } }).data?.status;
  } catch {
    return undefined;
  }
}
