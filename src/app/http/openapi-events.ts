import { WebhookEventTypes } from "../../domain/webhook-delivery.ts";
import { bearer, problemResponse } from "./openapi-parts.ts";

/** The path of the server-sent event stream, merged into the document's paths. */
export const eventPaths = {
  "/events": {
    get: {
      summary: "The webhook events as a server-sent event stream, resumable with Last-Event-ID",
      description:
        "Each event: `id: <increasing integer>`, `event: <webhook type>`, `data: <the webhook payload>`. " +
        "With Last-Event-ID, the events recorded after it are replayed first (kept EVENTS_RETENTION_HOURS; " +
        "when some were pruned, an `event: reset` comes first). A `: ping` comment every EVENTS_HEARTBEAT_MS. " +
        'A client too slow to read gets `event: dropped` (`{"reason":"slow consumer","lastEventId":...}`) ' +
        "and the stream ends; it resumes with that id.",
      security: bearer,
      parameters: [
        {
          name: "Last-Event-ID",
          in: "header",
          description: "The id of the last event received: replay what came after it",
          schema: { type: "string", pattern: "^[0-9]+$" },
        },
        {
          name: "types",
          in: "query",
          description: `Comma-separated event types to keep (${WebhookEventTypes.join(", ")}); default all`,
          schema: { type: "string" },
        },
      ],
      responses: {
        200: {
          description: "The stream (open until the client leaves, is dropped, or the gateway stops)",
          content: { "text/event-stream": { schema: { type: "string" } } },
        },
        400: problemResponse("Unknown type, or a Last-Event-ID that is not an integer"),
        401: problemResponse("Missing or wrong API key"),
      },
    },
  },
};
