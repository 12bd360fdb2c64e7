import { randomUUID } from "node:crypto";
import type { Clock } from "../../domain/ports/clock.port.ts";
import type { DomainEvents } from "../../domain/ports/domain-events.port.ts";
import type { MessageStore } from "../../domain/ports/message-store.port.ts";
import type { MessagingProvider, ProviderEvent } from "../../domain/ports/messaging-provider.port.ts";
import type { Logger } from "../../domain/ports/logger.port.ts";

/**
 * Turns what a provider reports into stored facts and domain events: inbound
 * messages (recorded once, however often the provider redelivers them),
 * status reports (never moving a status backwards), and session changes
 * (`session.ready` first when the session can send, which wakes the
 * dispatcher, then `session.state` for the webhook).
 */
export class RecordProviderEvent {
  constructor(
    private readonly store: MessageStore,
    private readonly events: DomainEvents,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Subscribes to a provider; returns the unsubscribe. */
  attach(provider: MessagingProvider): () => void {
    return provider.subscribe((event) => {
      this.handle(provider, event).catch((error: unknown) => {
        this.logger.error(
          { err: error, provider: provider.id, event: event.type },
          "events: recording a provider event failed",
        );
      });
    });
  }

  async handle(provider: MessagingProvider, event: ProviderEvent): Promise<void> {
    switch (event.type) {
      case "inbound": {
        const { message, created } = await this.store.recordInbound({ id: randomUUID(), ...event.message });
        if (created) this.events.publish({ type: "message.inbound", message });
        return;
      }
      case "status": {
        const applied = await this.store.applyStatus(
          {
            provider: provider.id,
            providerMessageId: event.providerMessageId,
            status: event.status,
            ...(event.error ? { error: event.error } : {}),
          },
          this.clock.now(),
        );
        // A report the message had already passed, or a repeated one, changes nothing and is not announced.
        if (applied && applied.reached.length > 0) {
          this.events.publish({ type: "message.status", message: applied.message, reached: applied.reached });
        }
        return;
      }
      case "session": {
        if (event.ready) this.events.publish({ type: "session.ready", provider: provider.id, session: event.session });
        const info = provider.sessions?.get(event.session);
        if (info) this.events.publish({ type: "session.state", session: info });
        return;
      }
    }
  }
}
