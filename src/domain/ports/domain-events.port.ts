import { injectionToken, type InjectionToken } from "../injection-token.ts";
import type { GroupUpdate } from "../group.ts";
import type { Message } from "../message.ts";
import type { MessageStatus } from "../message-status.ts";
import type { SessionInfo } from "../session.ts";

/**
 * What the gateway announces to the outside: the user's webhook receives
 * these (their payloads are part of the HTTP contract).
 */
export type PublicDomainEvent =
  | { readonly type: "message.inbound"; readonly message: Message }
  /** `reached`: the statuses this change moved through, oldest first (an attempt may go sent -> delivered at once). */
  | { readonly type: "message.status"; readonly message: Message; readonly reached: readonly MessageStatus[] }
  | { readonly type: "session.state"; readonly session: SessionInfo }
  /** A reaction received (the reaction itself, a message of kind `reaction`). */
  | { readonly type: "message.reaction"; readonly message: Message }
  /** A message's text was edited (received from its sender, or ours once the edit went out): the message after it. */
  | { readonly type: "message.edited"; readonly message: Message }
  /** A message was deleted for everyone, or a queued one of ours cancelled: the message after it. */
  | { readonly type: "message.deleted"; readonly message: Message }
  /** A group a session is in changed (members, roles, subject, description). */
  | { readonly type: "group.updated"; readonly session: string; readonly update: GroupUpdate };

/** What only parts of this process react to; never sent to a webhook. */
export type InternalDomainEvent =
  /** A new outbound message is committed to the queue (the dispatcher wakes its route, telemetry counts it). */
  | { readonly type: "message.accepted"; readonly message: Message }
  /** A session of a provider can send now (the dispatcher wakes its route). */
  | { readonly type: "session.ready"; readonly provider: string; readonly session: string };

export type DomainEvent = PublicDomainEvent | InternalDomainEvent;

/**
 * Where use cases announce what happened, and where the parts that react
 * (dispatcher, telemetry, outbound webhooks) subscribe.
 */
export interface DomainEvents {
  /** Hands the event to every listener before returning, in the order they subscribed. */
  publish(event: DomainEvent): void;
  /** Listens to every event published from now on; returns the unsubscribe. */
  subscribe(listener: (event: DomainEvent) => void): () => void;
}

export const DomainEvents: InjectionToken<DomainEvents> = injectionToken("DomainEvents");
