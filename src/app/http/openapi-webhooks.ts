import { WebhookDeliveryStatuses, WebhookEventTypes } from "../../domain/webhook-delivery.ts";

import { bearer, idParam, json, problemResponse, ref } from "./openapi-parts.ts";
const onlyWhenConfigured = " Exists only when WEBHOOK_URL is set.";

const deliveryProperties = {
  id: { type: "string", example: "whd_0f8c..." },
  eventId: {
    type: "string",
    description: "Sent as webhook-id; the same on every attempt and replay",
    example: "evt_6a1e...",
  },
  type: { type: "string", enum: WebhookEventTypes },
  status: {
    type: "string",
    enum: WebhookDeliveryStatuses,
    description: "failed: parked after the last attempt, replayable",
  },
  attempts: { type: "integer" },
  lastError: { type: ["string", "null"] },
  nextAttemptAt: { type: ["string", "null"], format: "date-time" },
  createdAt: { type: "string", format: "date-time" },
  updatedAt: { type: "string", format: "date-time" },
};

/** Schemas of the outbound webhook deliveries, merged into the document's components. */
export const webhookSchemas = {
  WebhookDelivery: { type: "object", properties: deliveryProperties },
  WebhookDeliveryDetail: {
    type: "object",
    properties: {
      ...deliveryProperties,
      payload: {
        type: "object",
        description: "The body sent: {type, timestamp, data}, data being the message or session as the API shows it",
        properties: {
          type: { type: "string", enum: WebhookEventTypes },
          timestamp: { type: "string", format: "date-time" },
          data: { type: "object" },
        },
      },
    },
  },
  WebhookDeliveryPage: {
    type: "object",
    properties: { items: { type: "array", items: ref("WebhookDelivery") }, nextCursor: { type: ["string", "null"] } },
  },
};

/** Paths of the outbound webhook deliveries, merged into the document's paths. */
export const webhookPaths = {
  "/webhooks/deliveries": {
    get: {
      summary: "List outbound webhook deliveries, newest first (status=failed: the parked ones)",
      description: `Each event sent to WEBHOOK_URL, signed per Standard Webhooks.${onlyWhenConfigured}`,
      security: bearer,
      parameters: [
        { name: "status", in: "query", schema: { type: "string", enum: WebhookDeliveryStatuses } },
        { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 100, default: 50 } },
        { name: "cursor", in: "query", schema: { type: "string" } },
      ],
      responses: {
        200: json(ref("WebhookDeliveryPage")),
        400: problemResponse("Invalid filter"),
        401: problemResponse("Missing or wrong API key"),
      },
    },
  },
  "/webhooks/deliveries/{id}": {
    get: {
      summary: "One webhook delivery with its payload",
      description: onlyWhenConfigured.trim(),
      security: bearer,
      parameters: [idParam],
      responses: {
        200: json(ref("WebhookDeliveryDetail")),
        401: problemResponse("Missing or wrong API key"),
        404: problemResponse("No such delivery"),
      },
    },
  },
  "/webhooks/deliveries/{id}/retry": {
    post: {
      summary: "Replay a parked (failed) delivery: same webhook-id and body, a fresh round of attempts",
      description: onlyWhenConfigured.trim(),
      security: bearer,
      parameters: [idParam],
      responses: {
        202: json(ref("WebhookDelivery"), "Queued again"),
        401: problemResponse("Missing or wrong API key"),
        404: problemResponse("No such delivery (WEBHOOK.DELIVERY_NOT_FOUND)"),
        409: problemResponse("The delivery is not parked (WEBHOOK.NOT_PARKED)"),
      },
    },
  },
};
