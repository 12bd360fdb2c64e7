import type { Message } from "../../domain/message.ts";
import type { DomainEvent, DomainEvents } from "../../domain/ports/domain-events.port.ts";
import type { GatewayMetrics } from "./gateway-metrics.ts";
import type { MessageSpans } from "./tracing.ts";

/**
 * Counts and traces messages from the domain events: an accepted message
 * opens its `message.send` span and counts as queued, each status a message
 * reaches is counted (and closes the span once the send is over), an inbound
 * message counts as received. Listens from construction on; whatever
 * subscribes after it (the dispatcher) sees an accepted message only once
 * its span is open.
 */
export class MessageTelemetry {
  constructor(
    events: DomainEvents,
    private readonly metrics: GatewayMetrics,
    private readonly spans: MessageSpans,
  ) {
    events.subscribe((event) => this.observe(event));
  }

  /** Runs one send attempt inside the message's `message.dispatch` span. */
  dispatch<T>(message: Message, send: () => Promise<T>): Promise<T> {
    return this.spans.dispatch(message, send);
  }

  private observe(event: DomainEvent): void {
    switch (event.type) {
      case "message.accepted":
        this.spans.accepted(event.message);
        this.metrics.accepted(event.message);
        return;
      case "message.status":
        for (const status of event.reached)
          this.metrics.messageStatus(event.message.provider, event.message.direction, status);
        this.spans.settled(event.message);
        return;
      case "message.inbound":
        this.metrics.messageStatus(event.message.provider, "inbound", "received");
        return;
    }
  }
}
