import type { WriteHealth } from "../errors.ts";
import { injectionToken, type InjectionToken } from "../injection-token.ts";
import type { NewWebhookDelivery, WebhookDelivery, WebhookDeliveryStatus } from "../webhook-delivery.ts";
import type { Page } from "./message-store.port.ts";

export interface WebhookDeliveryFilter {
  readonly status?: WebhookDeliveryStatus;
  readonly limit: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  readonly cursor?: string;
}

/** How an attempt that did not get a 2xx ends: another try later, or parked. */
export type WebhookFailure =
  | { readonly kind: "retry"; readonly error: string; readonly nextAttemptAt: Date }
  | { readonly kind: "park"; readonly error: string };

export type WebhookRetryResult =
  | { readonly kind: "requeued"; readonly delivery: WebhookDelivery }
  | { readonly kind: "not_found" }
  /** Only a parked (`failed`) delivery can be replayed. */
  | { readonly kind: "not_parked"; readonly delivery: WebhookDelivery };

export interface OutboxTimeline {
  readonly createdAt: Date;
  /** Undefined until the first delivery is enqueued. */
  readonly lastEnqueuedAt: Date | undefined;
}

/**
 * The durable queue of outbound webhook deliveries. A method resolves only
 * once its change is committed, so a delivery survives a crash or restart
 * from the moment `enqueue` resolves.
 */
export interface WebhookOutbox {
  /** Commits a new `pending` delivery, due now. */
  enqueue(delivery: NewWebhookDelivery): Promise<WebhookDelivery>;

  /**
   * Hands out up to `limit` due pending deliveries, oldest first, each leased
   * for `leaseMs` (a delivery whose lease ran out, because its worker died,
   * is handed out again). Per ordering key only the oldest pending delivery
   * is ever handed out, and not while it waits for its retry, so a receiver
   * sees the events of one message in enqueue order.
   */
  claimDue(limit: number, leaseMs: number, now: Date): Promise<WebhookDelivery[]>;

  /** Marks a claimed delivery `delivered` and counts the attempt. Throws `WEBHOOK.DELIVERY_NOT_FOUND` for an unknown id. */
  recordSuccess(id: string, now: Date): Promise<WebhookDelivery>;

  /**
   * Counts a failed attempt and keeps its error: the delivery waits until
   * `nextAttemptAt`, or is parked (`failed`) and no longer claimed, which lets
   * the next delivery of its ordering key go. Throws `WEBHOOK.DELIVERY_NOT_FOUND` for an unknown id.
   */
  recordFailure(id: string, failure: WebhookFailure, now: Date): Promise<WebhookDelivery>;

  /**
   * Puts a parked delivery back to `pending`, due now, with its attempt count
   * reset so the replay gets the whole retry schedule again; same event id and body.
   */
  retry(id: string, now: Date): Promise<WebhookRetryResult>;

  /** Releases every lease (pending deliveries in flight when the last process stopped): called at start. */
  requeueInFlight(now: Date): Promise<number>;

  get(id: string): Promise<WebhookDelivery | undefined>;

  /** Newest first, optionally by status, paged by an opaque cursor. */
  list(filter: WebhookDeliveryFilter): Promise<Page<WebhookDelivery>>;

  /** The body of the newest delivery kept for each of these ordering keys; a key with none is absent. */
  latestBodies(orderingKeys: readonly string[]): Promise<Map<string, string>>;

  /** When the outbox was created, and when its newest delivery was enqueued (also once purged); for the catch-up after a crash. */
  timeline(): Promise<OutboxTimeline>;

  /** Earliest moment `claimDue` could hand something out, if anything is pending. */
  nextDueAt(): Promise<Date | undefined>;

  /** Deletes delivered deliveries last updated before `before`, at most `limit` of them; returns how many. */
  purgeDelivered(before: Date, limit: number): Promise<number>;

  /** Flushes and releases the store. */
  /**
   * Whether the store can write: `down` with the reason while its storage
   * fails (disk full, I/O errors); may try a tiny write to find out, so it
   * turns `ok` by itself once the storage recovers. Optional: a store with
   * no storage of its own (an in-memory fake) leaves it out.
   */
  health?(): Promise<WriteHealth>;

  close(): Promise<void>;
}

export const WebhookOutbox: InjectionToken<WebhookOutbox> = injectionToken("WebhookOutbox");
