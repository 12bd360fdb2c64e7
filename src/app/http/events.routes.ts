import { Hono } from "hono";
import { DomainError } from "../../domain/errors.ts";
import type { EventLog } from "../../domain/ports/event-log.port.ts";
import { WebhookEventTypes } from "../../domain/webhook-delivery.ts";
import { EventStream, type LiveEvents } from "../events/event-stream.ts";

/** Where the event stream is served. */
export const EVENTS_PATH = "/events";

export interface EventsRoutesDeps {
  readonly log: EventLog;
  readonly live: LiveEvents;
  /** EVENTS_HEARTBEAT_MS: a `: ping` comment this often. */
  readonly heartbeatMs: number;
  /** Bounds of what may wait for one slow client before it is dropped. */
  readonly maxPendingEvents: number;
  readonly maxPendingBytes: number;
  /** Test hook: every stream opened. */
  readonly onStream?: (stream: EventStream) => void;
}

/** `GET /events`: the webhook events as server-sent events, resumable with `Last-Event-ID`. */
export function eventsRoutes(deps: EventsRoutesDeps): Hono {
  const routes = new Hono();
  routes.get("/", (c) => {
    const lastEventId = c.req.header("last-event-id")?.trim() || undefined;
    if (lastEventId !== undefined && !/^\d{1,15}$/.test(lastEventId))
      throw new DomainError("REQUEST.INVALID", "Last-Event-ID must be the id of an event this stream sent", [
        { field: "Last-Event-ID", message: "must be a decimal integer" },
      ]);
    const types = parseTypes(c.req.query("types"));
    const stream = new EventStream(deps.log, deps.live, {
      lastEventId,
      types,
      heartbeatMs: deps.heartbeatMs,
      maxPendingEvents: deps.maxPendingEvents,
      maxPendingBytes: deps.maxPendingBytes,
    });
    c.req.raw.signal.addEventListener("abort", () => stream.close(), { once: true });
    deps.onStream?.(stream);
    stream.run().catch(() => stream.end());
    return new Response(stream.body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        // Tells nginx-like proxies not to hold events back in a buffer.
        "x-accel-buffering": "no",
      },
    });
  });
  return routes;
}

function parseTypes(raw: string | undefined): ReadonlySet<string> | undefined {
  if (raw === undefined || raw === "") return undefined;
  const types = raw.split(",").map((t) => t.trim());
  const unknown = types.filter((t) => !(WebhookEventTypes as readonly string[]).includes(t));
  if (unknown.length > 0)
    throw new DomainError("REQUEST.INVALID", `unknown event type ${unknown.join(", ")}`, [
      { field: "types", message: `each must be one of ${WebhookEventTypes.join(", ")}` },
    ]);
  return new Set(types);
}
