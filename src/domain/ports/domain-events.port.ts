import { injectionToken, type InjectionToken } from "../injection-token.ts";
import type { Message } from "../message.ts";
import type { MessageStatus } from "../message-status.ts";
import type { SessionInfo } from "../session.ts";

export type DomainEvent =
  | { readonly type: "message.inbound"; readonly message: Message }
  /** `reached`: the statuses this change moved through, oldest first (an attempt may go sent -> delivered at once). */
  | { readonly type: "message.status"; readonly message: Message; readonly reached: readonly MessageStatus[] }
  | { readonly type: "session.state"; readonly session: SessionInfo };

/** Where use cases announce what happened (outbound webhooks subscribe here). */
export interface DomainEvents {
  publish(event: DomainEvent): void;
  subscribe(listener: (event: DomainEvent) => void): () => void;
}

export const DomainEvents: InjectionToken<DomainEvents> = injectionToken("DomainEvents");
