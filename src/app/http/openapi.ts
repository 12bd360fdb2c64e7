import { z } from "zod";
import { ErrorCodes } from "../../domain/errors.ts";
import { MessageStatuses } from "../../domain/message-status.ts";
import { SessionStates } from "../../domain/session.ts";
import { bearer, json, problemResponse, ref, storeUnavailableResponse } from "./openapi-parts.ts";
import { conversationPaths, conversationProperties } from "./openapi-conversations.ts";
import { groupPaths, groupSchemas } from "./openapi-groups.ts";
import { mediaPaths, mediaSchemas } from "./openapi-media.ts";
import { sessionPaths, sessionSchemas } from "./openapi-sessions.ts";
import { webhookPaths, webhookSchemas } from "./openapi-webhooks.ts";
import { eventPaths } from "./openapi-events.ts";
import { sendMessageBody } from "./schemas.ts";

const sendBodySchema = z.toJSONSchema(sendMessageBody, { io: "input", target: "openapi-3.0" });

/** The OpenAPI 3.1 document served at /openapi.json. */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "Messaging gateway",
      version,
      description: "One HTTP API over WhatsApp (Baileys) and Twilio, with a durable outbound queue.",
    },
    components: {
      securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "An API key (API_KEYS)" } },
      schemas: {
        SendMessage: sendBodySchema,
        ...sessionSchemas,
        Message: {
          type: "object",
          properties: {
            id: { type: "string" },
            direction: { type: "string", enum: ["outbound", "inbound"] },
            status: { type: "string", enum: MessageStatuses },
            channel: { type: "string", enum: ["whatsapp", "sms"] },
            provider: { type: "string" },
            session: { type: "string" },
            to: { type: "string", example: "whatsapp:+40712345678" },
            from: { type: ["string", "null"] },
            text: { type: "string" },
            media: { type: "array", items: ref("MessageMedia") },
            ...conversationProperties,
            group: { type: ["string", "null"], description: "The group of a group message (whatsapp:group:<id>)" },
            participant: { type: ["string", "null"], description: "Who sent a message received in a group" },
            metadata: { type: ["object", "null"] },
            providerMessageId: { type: ["string", "null"] },
            attempts: { type: "integer" },
            error: {
              type: ["object", "null"],
              properties: {
                code: { type: "string" },
                message: { type: "string" },
                retryable: { type: "boolean" },
                providerCode: { type: "string" },
              },
            },
            createdAt: { type: "string", format: "date-time" },
            updatedAt: { type: "string", format: "date-time" },
            history: {
              type: "array",
              items: {
                type: "object",
                properties: { status: { type: "string" }, at: { type: "string", format: "date-time" } },
              },
            },
          },
        },
        MessagePage: {
          type: "object",
          properties: { items: { type: "array", items: ref("Message") }, nextCursor: { type: ["string", "null"] } },
        },
        Problem: {
          type: "object",
          description: "RFC 9457 problem details with a stable `code`",
          properties: {
            type: { type: "string" },
            title: { type: "string" },
            status: { type: "integer" },
            code: { type: "string", enum: ErrorCodes },
            detail: { type: "string" },
            instance: { type: "string" },
            errors: {
              type: "array",
              items: { type: "object", properties: { field: { type: "string" }, message: { type: "string" } } },
            },
          },
        },
        Health: {
          type: "object",
          properties: {
            status: { type: "string", enum: ["ok", "degraded"] },
            version: { type: "string" },
            uptimeS: { type: "integer" },
            providers: { type: "array", items: { type: "string" } },
            sessions: { type: "object", additionalProperties: { type: "string", enum: SessionStates } },
            stores: {
              type: "object",
              description:
                "Each store (messages, sessions, media, events, webhooks) as {status: ok | degraded | down, kind, " +
                "detail?}; detail names the store and the reason while it cannot write (the disk is full)",
              additionalProperties: {
                type: "object",
                properties: {
                  status: { type: "string", enum: ["ok", "degraded", "down"] },
                  kind: { type: "string" },
                  detail: { type: "string" },
                },
              },
            },
          },
        },
        ...webhookSchemas,
        ...mediaSchemas,
        ...groupSchemas,
      },
    },
    paths: {
      "/messages": {
        post: {
          summary: "Queue an outbound message",
          security: bearer,
          parameters: [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              schema: { type: "string", maxLength: 255 },
              description: "Same key and body: the same message; same key, other body: 409",
            },
          ],
          requestBody: { required: true, content: { "application/json": { schema: ref("SendMessage") } } },
          responses: {
            202: {
              ...json(ref("Message"), "Accepted and committed to the queue"),
              headers: { Location: { schema: { type: "string" } } },
            },
            400: problemResponse("Invalid body"),
            401: problemResponse("Missing or wrong API key"),
            404: problemResponse("Unknown session, or unknown media id (MEDIA.NOT_FOUND)"),
            409: problemResponse("Idempotency-Key reused with another body"),
            413: problemResponse("Body too large, or a held file over the limit of its kind (MEDIA.TOO_LARGE)"),
            415: problemResponse("Body is not JSON"),
            422: problemResponse(
              "A held file whose type does not suit its kind (MEDIA.UNSUPPORTED_TYPE), or a media URL the gateway " +
                "refuses to fetch (MEDIA.URL_FORBIDDEN: loopback, private, link-local, metadata addresses)",
            ),
            429: problemResponse("Rate limit of this API key reached; see Retry-After"),
            503: storeUnavailableResponse,
          },
        },
        get: {
          summary: "List messages, newest first",
          security: bearer,
          parameters: [
            { name: "direction", in: "query", schema: { type: "string", enum: ["outbound", "inbound"] } },
            { name: "status", in: "query", schema: { type: "string", enum: MessageStatuses } },
            { name: "session", in: "query", schema: { type: "string" } },
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 100, default: 50 } },
            { name: "cursor", in: "query", schema: { type: "string" } },
          ],
          responses: {
            200: json(ref("MessagePage")),
            400: problemResponse("Invalid filter"),
            401: problemResponse("Missing or wrong API key"),
            429: problemResponse("Rate limit of this API key reached; see Retry-After"),
          },
        },
      },
      "/messages/{id}": {
        get: {
          summary: "One message with its status history",
          security: bearer,
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
          responses: {
            200: json(ref("Message")),
            401: problemResponse("Missing or wrong API key"),
            404: problemResponse("No such message"),
          },
        },
        ...conversationPaths["/messages/{id}"],
      },
      "/health": {
        get: {
          summary: "Health report (always 200 while the process serves)",
          responses: { 200: json(ref("Health")) },
        },
      },
      "/ready": {
        get: {
          summary: "Readiness: 200 when the stores answer and the providers started",
          responses: { 200: json({ type: "object" }), 503: json({ type: "object" }, "Not ready") },
        },
      },
      "/openapi.json": { get: { summary: "This document", responses: { 200: json({ type: "object" }) } } },
      "/docs": { get: { summary: "This document, rendered", responses: { 200: { description: "HTML" } } } },
      "/": {
        get: {
          summary: "Leads to the web console (CONSOLE_ENABLED)",
          responses: { 302: { description: "to /console" } },
        },
      },
      "/console": {
        get: {
          summary: "The web console (CONSOLE_ENABLED; no key: its calls need one)",
          responses: { 200: { description: "HTML" } },
        },
      },
      "/console/{file}": {
        get: {
          summary: "The web console's scripts and styles",
          parameters: [{ name: "file", in: "path", required: true, schema: { type: "string" } }],
          responses: { 200: { description: "JavaScript or CSS" }, 404: problemResponse("No such file") },
        },
      },
      ...sessionPaths,
      ...webhookPaths,
      ...eventPaths,
      ...mediaPaths,
      ...groupPaths,
      ...Object.fromEntries(Object.entries(conversationPaths).filter(([path]) => path !== "/messages/{id}")),
    },
  };
}
