import { context, isSpanContextValid, SpanStatusCode, trace, type Span, type Tracer } from "@opentelemetry/api";
import type { Message } from "../../domain/message.ts";
import type { RecoveryRecord } from "../sessions/session-supervisor.ts";

export const tracer: Tracer = trace.getTracer("messaging-gateway");

/**
 * Whether an OpenTelemetry SDK is registered (the preload started one). The
 * no-op tracer hands out spans with an invalid trace id; a real one never
 * does, even for spans it does not sample.
 */
/**
 * Runs `work` as the body of `span`: a failure marks the span failed (and is
 * rethrown), and the span ends either way.
 */
export async function withinSpan<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

export function tracingActive(): boolean {
  const probe = tracer.startSpan("probe");
  const active = isSpanContextValid(probe.spanContext());
  probe.end();
  return active;
}

/**
 * One `whatsapp.reconnect` span per recovery, from the close to the next
 * open (or to giving up), with a `whatsapp.connect` child per attempt. Built
 * when the recovery ends, with the recorded times, so nothing is held open
 * while the session is down; with tracing off these are no-ops.
 */
export function traceRecovery(record: RecoveryRecord, t: Tracer = tracer): void {
  const span = t.startSpan("whatsapp.reconnect", {
    startTime: record.startedAt,
    attributes: {
      "session.id": record.session,
      "disconnect.code": record.code,
      "disconnect.reason": record.reason,
      "reconnect.attempts": record.attempts,
      "reconnect.outcome": record.outcome,
    },
  });
  if (!span.isRecording()) return;
  const parent = trace.setSpan(context.active(), span);
  record.attemptLog.forEach((attempt, index) => {
    const child = t.startSpan(
      "whatsapp.connect",
      {
        startTime: attempt.startedAt,
        attributes: {
          "session.id": record.session,
          "reconnect.attempt": index + 1,
          "connect.outcome": attempt.outcome,
          ...(attempt.code === undefined ? {} : { "disconnect.code": attempt.code }),
        },
      },
      parent,
    );
    if (attempt.outcome === "closed")
      child.setStatus({ code: SpanStatusCode.ERROR, message: `closed with ${attempt.code}` });
    child.end(attempt.endedAt);
  });
  if (record.outcome !== "open") span.setStatus({ code: SpanStatusCode.ERROR, message: record.outcome });
  span.end(record.endedAt);
}

/**
 * `message.send` spans: opened when a message is accepted (a child of the
 * HTTP request span that accepted it), closed when the provider took it or
 * it failed. Open spans wait in a bounded map; with tracing off, nothing is
 * kept.
 */
export class MessageSpans {
  private readonly open = new Map<string, Span>();

  constructor(
    private readonly limit = 10_000,
    private readonly t: Tracer = tracer,
  ) {}

  accepted(message: Message): void {
    const span = this.t.startSpan("message.send", {
      attributes: {
        "message.id": message.id,
        "message.provider": message.provider,
        "session.id": message.session,
        "message.channel": message.channel,
      },
    });
    if (!span.isRecording()) return;
    if (this.open.size >= this.limit) {
      // Oldest first: a Map iterates in insertion order.
      const [oldestId, oldest] = this.open.entries().next().value as [string, Span];
      oldest.setStatus({ code: SpanStatusCode.ERROR, message: "still undelivered when the span table was full" });
      oldest.end();
      this.open.delete(oldestId);
    }
    this.open.set(message.id, span);
  }

  /** Runs one send attempt inside a `message.dispatch` span (a child of the message's `message.send`). */
  async dispatch<T>(message: Message, attempt: () => Promise<T>): Promise<T> {
    const parent = this.open.get(message.id);
    const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
    return this.t.startActiveSpan(
      "message.dispatch",
      {
        attributes: {
          "message.id": message.id,
          "message.provider": message.provider,
          "session.id": message.session,
          "message.attempt": message.attempts + 1,
        },
      },
      ctx,
      (span) =>
        withinSpan(span, async () => {
          // "error" unless the attempt comes back sent.
          span.setAttribute("dispatch.outcome", "error");
          const result = await attempt();
          span.setAttribute("dispatch.outcome", "sent");
          return result;
        }),
    );
  }

  /** Closes the message's span once it reached a status that ends the send (sent or beyond, or failed). */
  settled(message: Message): void {
    if (message.status === "queued" || message.status === "sending") return;
    const span = this.open.get(message.id);
    if (!span) return;
    this.open.delete(message.id);
    span.setAttribute("message.status", message.status);
    if (message.status === "failed")
      span.setStatus({ code: SpanStatusCode.ERROR, message: message.error?.message ?? "failed" });
    span.end();
  }
}
