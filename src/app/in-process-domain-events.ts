import type { DomainEvent, DomainEvents } from "../domain/ports/domain-events.port.ts";
import type { Logger } from "../domain/ports/logger.port.ts";

/** Synchronous fan-out inside the process; a failing listener never hurts the publisher or other listeners. */
export class InProcessDomainEvents implements DomainEvents {
  private readonly listeners = new Set<(event: DomainEvent) => void>();

  constructor(private readonly logger: Logger) {}

  publish(event: DomainEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error, event: event.type }, "events: a listener failed");
      }
    }
  }

  subscribe(listener: (event: DomainEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
