import type { Meter } from "@opentelemetry/api";
import { observeEventLoopDelay } from "./event-loop-delay.ts";
import type { Route } from "../../domain/message.ts";
import type { QueueDepth } from "../../domain/ports/message-store.port.ts";
import { SessionStates, type SessionInfo } from "../../domain/session.ts";
import type { RecoveryRecord } from "../sessions/session-supervisor.ts";

export interface MetricSources {
  /** Every session of every provider with logins: the queue gauges show each of their routes, 0 when empty. */
  readonly sessions: () => readonly SessionInfo[];
  readonly queueDepths: () => Promise<readonly QueueDepth[]>;
}

// Recovery times range from tens of milliseconds (a reconnect on a healthy
// network) to minutes (an outage with backoff): buckets span both.
const RECOVERY_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * The gateway's metrics, named in Prometheus form, through the OpenTelemetry
 * API only (the exporter is wired in the composition root).
 */
export class GatewayMetrics {
  private readonly reconnectDuration;
  private readonly messages;
  private readonly signatureFailures;
  private readonly storeErrors;
  /** Routes that had messages in this process: their queue gauges stay, at 0, once the queue is empty. */
  private readonly routes = new Map<string, Route>();
  private readonly stopLoopDelay: () => void;

  constructor(meter: Meter, sources: MetricSources) {
    this.reconnectDuration = meter.createHistogram("gateway_reconnect_duration_seconds", {
      description: "Time to recover a WhatsApp session: from the close of an open connection to the next open",
      unit: "s",
      advice: { explicitBucketBoundaries: RECOVERY_BUCKETS_S },
    });
    this.messages = meter.createCounter("gateway_messages_total", {
      description: "Message status changes, by provider, direction and the status reached",
    });
    this.signatureFailures = meter.createCounter("gateway_webhook_signature_failures_total", {
      description: "Provider webhooks rejected for a missing or wrong signature",
    });
    this.storeErrors = meter.createCounter("gateway_store_errors_total", {
      description: "Failed operations of a store, by store",
    });
    this.stopLoopDelay = observeEventLoopDelay(meter);
    // Counters start at 0 so a scrape shows them before the first event.
    this.signatureFailures.add(0);

    meter
      .createObservableGauge("gateway_session_state", {
        description: "1 for the state each session is in, 0 for the others",
      })
      .addCallback((result) => {
        for (const session of sources.sessions()) {
          for (const state of SessionStates)
            result.observe(session.state === state ? 1 : 0, { session: session.id, state });
        }
      });
    const depth = meter.createObservableGauge("gateway_queue_depth", {
      description: "Outbound messages waiting (queued or in flight), by provider and session",
    });
    const oldest = meter.createObservableGauge("gateway_queue_oldest_age_seconds", {
      description: "Age of the oldest waiting outbound message",
      unit: "s",
    });
    meter.addBatchObservableCallback(
      async (result) => {
        const waiting = new Map<string, QueueDepth>();
        for (const q of await sources.queueDepths()) {
          this.remember(q);
          waiting.set(routeKey(q), q);
        }
        // A gauge that vanishes when the queue empties reads as "no data" in
        // Prometheus, not as 0: every known route is reported, empty or not.
        const known = new Map(this.routes);
        for (const s of sources.sessions()) {
          const route = { provider: s.provider, session: s.id };
          known.set(routeKey(route), route);
        }
        for (const [key, route] of known) {
          const q = waiting.get(key);
          const labels = { provider: route.provider, session: route.session };
          result.observe(depth, q?.depth ?? 0, labels);
          result.observe(oldest, (q?.oldestAgeMs ?? 0) / 1000, labels);
        }
      },
      [depth, oldest],
    );
  }

  /** Stops sampling the event loop (the gateway is shutting down). */
  close(): void {
    this.stopLoopDelay();
  }

  recovery(record: RecoveryRecord): void {
    if (record.outcome !== "open") return;
    this.reconnectDuration.record(record.durationMs / 1000, { session: record.session, code: String(record.code) });
  }

  /** An outbound message was queued: counted, and its route is reported by the queue gauges from now on. */
  accepted(route: Route): void {
    this.remember(route);
    this.messageStatus(route.provider, "outbound", "queued");
  }

  messageStatus(provider: string, direction: string, status: string): void {
    this.messages.add(1, { provider, direction, status });
  }

  webhookSignatureFailure(provider: string): void {
    this.signatureFailures.add(1, { provider });
  }

  storeError(store: string): void {
    this.storeErrors.add(1, { store });
  }

  private remember(route: Route): void {
    const key = routeKey(route);
    if (!this.routes.has(key)) this.routes.set(key, { provider: route.provider, session: route.session });
  }
}

function routeKey(route: Route): string {
  return `${route.provider}\u0000${route.session}`;
}
